// The incidents in a short form (issue 11): the shipped `incidents` matrix, cut by --only to the cells that
// compare a setting with its mitigation, run once with short windows through the real proxy, backends, control
// plane and link; each test asserts the direction of its scenario's headline, not a speed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { CellResult, RunResults } from '../results/model.js';

const BENCH = fileURLToPath(new URL('../cli/bench.js', import.meta.url));

describe('incident scenarios, short form (matrix incidents)', { timeout: 240_000 }, () => {
  let cells: CellResult[] = [];

  before(async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sluice-incidents-')), 'out');
    const r = await execa(
      process.execPath,
      [
        BENCH, '--matrix', 'incidents', '--out', out, '--duration', '2500ms', '--warmup', '300ms', '--reps', '1',
        '--only', 'scenario=window-exhaustion,window-exhaustion-client,keepalive-race,early-close,partial-partition,balancer-exhaustion,rapid-reset',
        // keepalive-race: the upstream's idle close races the proxy's reuse (the pool's own idle timeout is above it).
        '--only', 'h1PoolIdleTimeoutMs=3000',
      ],
      { reject: false },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const results = JSON.parse(readFileSync(join(out, readlinkSync(join(out, 'latest')), 'results.json'), 'utf8')) as RunResults;
    cells = results.cells;
    for (const cell of cells) assert.equal(cell.status, 'ok', `${cell.id}: ${cell.error}`);
  });

  const outcome = (scenario: string, params: Record<string, unknown> = {}): Record<string, unknown> & { headline: { value: number } } => {
    const cell = cells.find((c) => c.params.scenario === scenario && Object.entries(params).every(([k, v]) => (c.params as Record<string, unknown>)[k] === v));
    assert.ok(cell, `a cell of ${scenario} ${JSON.stringify(params)}`);
    const s = cell.reps[0]?.scenario;
    assert.ok(s, `${cell.id} recorded its scenario outcome`);
    return s as unknown as Record<string, unknown> & { headline: { value: number } };
  };

  it('window-exhaustion, client form: one stalled stream blocks its connection at a 65 535 connection window, not at 16 MiB', () => {
    const small = outcome('window-exhaustion-client', { clientConnWindow: 65_535 });
    const large = outcome('window-exhaustion-client', { clientConnWindow: 16_777_216 });
    assert.equal(small['blocked'], true, JSON.stringify(small));
    assert.equal(small.headline.value, 0, 'no request succeeds once the window is held');
    assert.equal(large['blocked'], false, JSON.stringify(large));
    assert.ok(large.headline.value > 99, JSON.stringify(large));
  });

  it('window-exhaustion, control plane: node:http2 (sluice-node, credit on arrival) reaches the new pods at both windows; our strict engine (the default) never at 65 535, at once at 16 MiB: seed 000', () => {
    const reached = (o: ReturnType<typeof outcome>): void => {
      assert.equal(o['reached'], true, JSON.stringify(o));
      assert.ok(typeof o['rolledAtMs'] === 'number', 'the roll happened in the window');
      // Reached: the headline is a time inside the window, not the window's length.
      assert.ok(o.headline.value < 2500 - (o['rolledAtMs'] as number), JSON.stringify(o));
    };
    for (const controlConnWindow of [65_535, 16_777_216]) reached(outcome('window-exhaustion', { controlConnWindow, proxy: 'sluice-node' }));
    reached(outcome('window-exhaustion', { controlConnWindow: 16_777_216, proxy: 'sluice' }));
    const starved = outcome('window-exhaustion', { controlConnWindow: 65_535, proxy: 'sluice' });
    assert.equal(starved['reached'], false, JSON.stringify(starved));
    assert.equal((starved.headline as { censored?: boolean }).censored, true, 'the headline says it is a bound, not a time');
    assert.ok(typeof starved['rolledAtMs'] === 'number', 'the roll happened in the window');
  });

  it('keepalive-race: reissuing idempotent requests removes the client-visible failures', () => {
    for (const h1ReuseGuard of [true, false]) {
      const off = outcome('keepalive-race', { h1Reissue: false, h1ReuseGuard });
      const on = outcome('keepalive-race', { h1Reissue: true, h1ReuseGuard });
      assert.ok(off.headline.value > 0, `the race shows without the mitigation: ${JSON.stringify(off)}`);
      assert.ok(on.headline.value < off.headline.value, `on ${on.headline.value} < off ${off.headline.value} per 10k`);
    }
  });

  it('early-close: the 413 reaches a write-then-read client with delayed close, and mostly not without', () => {
    const delayed = outcome('early-close', { delayedCloseMs: 1000 });
    const at_once = outcome('early-close', { delayedCloseMs: 0 });
    assert.ok(delayed.headline.value >= 90, JSON.stringify(delayed));
    assert.ok(at_once.headline.value < delayed.headline.value - 30, `${at_once.headline.value}% without, ${delayed.headline.value}% with`);
  });

  it('partial-partition: the balancer stops sending to the silent endpoint after its first requests there time out', () => {
    for (const protocol of ['h1', 'h2']) {
      const o = outcome('partial-partition', { protocol });
      // The requests in flight to it when it went silent (about a quarter of the concurrency of 8), then none.
      assert.ok((o['failedAfterFault'] as number) <= 8, JSON.stringify(o));
      assert.ok((o['sentToFaultyForMs'] as number) < 1000, JSON.stringify(o));
    }
  });

  it('balancer-exhaustion: requests fail fast within the fail-fast time plus 0.5 s of the loss of every endpoint', () => {
    const o = outcome('balancer-exhaustion');
    const failfastMs = (cells.find((c) => c.params.scenario === 'balancer-exhaustion')!.params as { failfastMs: number }).failfastMs;
    assert.ok(o.headline.value <= failfastMs + 500, `fail fast after ${o.headline.value} ms (fail-fast ${failfastMs} ms)`);
    assert.ok((o['queuedReleased'] as number) > 0, 'the queued requests were answered');
  });

  it('rapid-reset: with cancels absorbed, the well-behaved client beside the attacker has no failure; the attacker is sent GOAWAY', () => {
    const o = outcome('rapid-reset', { absorbCancels: 1000 }) as Record<string, unknown> & { headline: { value: number }; attacker: { goaway: Record<string, number>; streams: number } };
    assert.equal(o['wellBehavedFailures'], 0, JSON.stringify(o));
    assert.ok(o.attacker.streams > 0);
    assert.ok((o.attacker.goaway['ENHANCE_YOUR_CALM'] ?? 0) > 0, JSON.stringify(o.attacker));
  });
});
