// The open loop's pacer: it never wakes before the due time, by whichever of its three means the distance
// calls for, and its helper thread ends with it.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { COARSE_MS, Pacer, SPIN_MS } from '../../load/sequencer/pacer.js';

test('onDue never comes before the due time, near or far (polling, the helper thread, a timer)', async () => {
  const delays = [0, SPIN_MS / 2, SPIN_MS * 1.5, SPIN_MS * 4, COARSE_MS * 0.8, COARSE_MS + 5];
  let due = 0;
  let woke = -1;
  const pacer = new Pacer(() => (woke = performance.now()));
  try {
    for (const delay of delays) {
      woke = -1;
      due = performance.now() + delay;
      pacer.at(due);
      const deadline = performance.now() + delay + 1000;
      while (woke < 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
      assert.ok(woke >= due, `delay ${delay} ms: woke ${(woke - due).toFixed(3)} ms from the due time`);
    }
  } finally {
    await pacer.close();
  }
});

test('a cancelled wake never calls back; close() ends the helper thread', async () => {
  let calls = 0;
  const pacer = new Pacer(() => calls++);
  pacer.at(performance.now() + 1); // the helper thread's range
  pacer.cancel();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls, 0);
  const before = process.getActiveResourcesInfo().length;
  await pacer.close();
  assert.ok(process.getActiveResourcesInfo().length <= before);
});

test('close() with a wake already in flight still waits for the helper thread to exit (regression: the late wake unreferenced it)', async () => {
  const pacer = new Pacer(() => undefined);
  // Start the thread and let it settle, then ask for a wake and block this loop past it, so its message is
  // queued when close() runs: that message must not unreference the closing thread.
  pacer.at(performance.now() + 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  pacer.at(performance.now() + 0.5);
  const until = performance.now() + 5;
  while (performance.now() < until);
  await pacer.close();
});
