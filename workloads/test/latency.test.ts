import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createLatencySampler,
  latencyFlag,
  LatencyError,
  MAX_LATENCY_MS,
  parseLatency,
  seededRandom,
  type LatencySpec,
} from '../backends/latency.js';

const SAMPLES = 10_000;

function draw(spec: LatencySpec, seed = 42): number[] {
  const sample = createLatencySampler(spec, seededRandom(seed));
  return Array.from({ length: SAMPLES }, () => sample());
}

describe('latency sampler', () => {
  it('fixed returns the value', () => {
    const samples = draw({ dist: 'fixed', ms: 1.5 });
    assert.ok(samples.every((ms) => ms === 1.5));
  });

  it('uniform stays within [min, max) and covers the range', () => {
    const samples = draw({ dist: 'uniform', minMs: 1, maxMs: 5 });
    assert.ok(samples.every((ms) => ms >= 1 && ms < 5));
    assert.ok(Math.min(...samples) < 1.1);
    assert.ok(Math.max(...samples) > 4.9);
  });

  it('bimodal answers slow for its share of requests, within tolerance', () => {
    const samples = draw({ dist: 'bimodal', ms: 1, slowMs: 50, slowShare: 0.05 });
    assert.ok(samples.every((ms) => ms === 1 || ms === 50));
    const share = samples.filter((ms) => ms === 50).length / SAMPLES;
    // Binomial standard deviation is ~0.0022 at n = 10 000; 0.01 is more than four of them.
    assert.ok(Math.abs(share - 0.05) < 0.01, `slow share ${share}`);
  });

  it('normal is clamped at 0 and centred on its mean', () => {
    const samples = draw({ dist: 'normal', ms: 5, stddevMs: 1 });
    assert.ok(samples.every((ms) => ms >= 0));
    const mean = samples.reduce((a, b) => a + b, 0) / SAMPLES;
    assert.ok(Math.abs(mean - 5) < 0.1, `mean ${mean}`);
    assert.ok(draw({ dist: 'normal', ms: 1, stddevMs: 5 }).every((ms) => ms >= 0));
  });

  it('lognormal has the given median and stays within the cap', () => {
    const samples = draw({ dist: 'lognormal', ms: 5, sigma: 0.5 }).sort((a, b) => a - b);
    const median = samples[SAMPLES / 2]!;
    assert.ok(Math.abs(median - 5) < 0.25, `median ${median}`);
    assert.ok(draw({ dist: 'lognormal', ms: 1000, sigma: 8 }).every((ms) => ms >= 0 && ms <= MAX_LATENCY_MS));
  });

  it('the same seed gives the same samples', () => {
    const spec: LatencySpec = { dist: 'uniform', minMs: 0, maxMs: 10 };
    assert.deepEqual(draw(spec, 7), draw(spec, 7));
    assert.notDeepEqual(draw(spec, 7), draw(spec, 8));
  });
});

describe('latency flag', () => {
  it('reads every form', () => {
    assert.deepEqual(parseLatency('1ms'), { dist: 'fixed', ms: 1 });
    assert.deepEqual(parseLatency('fixed:250us'), { dist: 'fixed', ms: 0.25 });
    assert.deepEqual(parseLatency('uniform:1ms:5ms'), { dist: 'uniform', minMs: 1, maxMs: 5 });
    assert.deepEqual(parseLatency('normal:5ms:1ms'), { dist: 'normal', ms: 5, stddevMs: 1 });
    assert.deepEqual(parseLatency('lognormal:5ms:0.5'), { dist: 'lognormal', ms: 5, sigma: 0.5 });
    assert.deepEqual(parseLatency('bimodal:1ms:50ms:0.05'), { dist: 'bimodal', ms: 1, slowMs: 50, slowShare: 0.05 });
  });

  it('refuses bad input, naming the flag', () => {
    for (const bad of ['', '10', 'fast', 'uniform:5ms', 'uniform:5ms:1ms', 'bimodal:1ms:50ms:1.5', 'lognormal:5ms:x', 'gamma:1ms:2ms', '2h']) {
      assert.throws(() => parseLatency(bad), (err: unknown) => err instanceof LatencyError && err.message.startsWith('--latency:'), bad);
    }
  });

  it('turns a matrix latency object into a flag that reads back the same', () => {
    const specs: LatencySpec[] = [
      { dist: 'fixed', ms: 0 },
      { dist: 'fixed', ms: 1 },
      { dist: 'uniform', minMs: 1, maxMs: 5 },
      { dist: 'normal', ms: 5, stddevMs: 1 },
      { dist: 'lognormal', ms: 5, sigma: 0.5 },
      { dist: 'bimodal', ms: 1, slowMs: 50, slowShare: 0.05 },
      { dist: 'fixed', ms: 0.0000001 },
    ];
    assert.equal(latencyFlag({ dist: 'bimodal', ms: 1, slowMs: 50, slowShare: 0.05 }), 'bimodal:1ms:50ms:0.05');
    assert.equal(latencyFlag({ dist: 'fixed', ms: 1 }), '1ms');
    for (const spec of specs) assert.deepEqual(parseLatency(latencyFlag(spec)), spec);
    assert.throws(() => latencyFlag({ dist: 'fixed', ms: -1 }), /latency: ms -1/);
  });
});
