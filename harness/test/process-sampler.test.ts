// ProcessSampler against child node processes: one that burns CPU and grows its memory inside the window, one
// that dies inside it; and no process at all (a direct cell).
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { ProcessSampler, processCpuSeconds, rssBytes } from '../orchestrator/process-sampler.js';

const MB = 1024 * 1024;

// On "go": for 300 ms of its own CPU time it spins and grows an array of 1 MiB buffers (filled, so their pages
// are resident) to GROW_MB, then drops them, says "done" and waits for stdin to close.
const GROW_MB = 64;
const CHILD = `
const lines = require('node:readline').createInterface({ input: process.stdin });
process.stdout.write('ready\\n');
lines.on('line', (line) => {
  if (line !== 'go') return;
  const held = [];
  const start = process.cpuUsage();
  const spent = () => { const u = process.cpuUsage(start); return (u.user + u.system) / 1000; };
  while (spent() < 300) {
    if (held.length < ${GROW_MB} && spent() > held.length * (250 / ${GROW_MB})) held.push(Buffer.alloc(1 << 20, 1));
  }
  held.length = 0;
  process.stdout.write('done\\n');
});
lines.on('close', () => process.exit(0));
`;

function startChild(): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['-e', CHILD]);
  child.stdout.setEncoding('utf8');
  return child;
}

/** Resolves when the child has written `line`. */
function said(child: ChildProcessWithoutNullStreams, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: string): void => {
      seen += chunk;
      if (seen.split('\n').includes(line)) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', () => reject(new Error(`the child exited before it said ${line}`)));
  });
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

test('a child that burns CPU and grows its memory: cpuS covers the burn, peak over the start, peak >= end', { timeout: 20_000 }, async (t) => {
  const child = startChild();
  try {
    await said(child, 'ready');
    const pid = child.pid!;
    const rssAtStart = rssBytes(pid)!;
    const cpuBefore = processCpuSeconds(pid)!;
    const sampler = new ProcessSampler(pid, 20);
    sampler.start();
    child.stdin.write('go\n');
    await said(child, 'done');
    const window = sampler.stop();
    const cpuOutside = processCpuSeconds(pid)! - cpuBefore;
    t.diagnostic(`start ${(rssAtStart / MB).toFixed(1)} MiB, window ${JSON.stringify(window)}`);
    assert.ok(window.cpuS >= 0.25, `cpuS ${window.cpuS} for 0.3 s of burning`);
    assert.ok(window.cpuS <= cpuOutside + 0.01, `cpuS ${window.cpuS} within the child's own ${cpuOutside}`);
    assert.ok(window.peakRssBytes >= rssAtStart + (GROW_MB / 2) * MB, `peak ${window.peakRssBytes / MB} MiB vs ${rssAtStart / MB} MiB at start`);
    assert.ok(window.peakRssBytes >= window.endRssBytes);
    assert.ok(window.endRssBytes > 0);
    assert.ok(window.samples >= 3, `${window.samples} samples: at start, while running, at stop`);
  } finally {
    await stop(child);
  }
});

test('a process that exits inside the window keeps what was sampled; stop() does not throw', { timeout: 20_000 }, async () => {
  const child = startChild();
  try {
    await said(child, 'ready');
    const sampler = new ProcessSampler(child.pid!, 20);
    sampler.start();
    child.stdin.write('go\n');
    await said(child, 'done');
    await stop(child);
    await new Promise((r) => setTimeout(r, 60)); // a few ticks find nothing to read
    const window = sampler.stop();
    assert.ok(window.samples >= 2, `${window.samples} samples before it went`);
    assert.ok(window.peakRssBytes > GROW_MB * MB, `peak ${window.peakRssBytes / MB} MiB`);
    assert.ok(window.endRssBytes > 0, 'the last RSS sampled');
    assert.ok(window.cpuS > 0.1, `cpuS ${window.cpuS} up to the last reading`);
  } finally {
    await stop(child);
  }
});

test('no pid (a direct cell) or one that never existed: zeros and samples 0', () => {
  const zero = { cpuS: 0, peakRssBytes: 0, endRssBytes: 0, samples: 0, series: [] };
  const none = new ProcessSampler(undefined);
  none.start();
  assert.deepEqual(none.stop(), zero);
  const gone = new ProcessSampler(2 ** 30); // above any pid_max
  gone.start();
  assert.deepEqual(gone.stop(), zero);
  assert.deepEqual(new ProcessSampler(undefined).stop(), zero, 'stop() without start()');
});

test('the sampler can measure the test process itself, and start() begins a new window', async () => {
  const sampler = new ProcessSampler(process.pid, 10);
  sampler.start();
  const until = performance.now() + 100;
  while (performance.now() < until); // burn 100 ms
  const first = sampler.stop();
  assert.ok(first.cpuS >= 0.05, `cpuS ${first.cpuS}`);
  sampler.start();
  await new Promise((r) => setTimeout(r, 30));
  const second = sampler.stop();
  assert.ok(second.cpuS < first.cpuS, 'a new window starts from zero');
  assert.ok(second.samples >= 2);
});
