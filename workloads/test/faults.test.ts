import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkShares, FaultPatchError, parseFaultPatch } from '../backends/fault-patch.js';
import { decide, type RequestFaults, type Verdict } from '../backends/faults.js';
import { seededRandom } from '../backends/latency.js';

const NONE: RequestFaults = { resetShare: 0, failShare: 0, stallRead: false, earlyStatus: null, earlyAfterBytes: 0 };

function tally(faults: RequestFaults, requests: number, seed: number, bodyBytes: number | undefined = 0): Record<Verdict, number> {
  const random = seededRandom(seed);
  const counts: Record<Verdict, number> = { answer: 0, reset: 0, fail: 0, early: 0, stall: 0 };
  for (let i = 0; i < requests; i++) counts[decide(faults, bodyBytes, random)]++;
  return counts;
}

describe('the per-request fault decision', () => {
  it('answers everything when no fault is set, drawing nothing', () => {
    const never = (): number => assert.fail('drew a random number with no share set');
    for (const body of [0, 10, undefined]) assert.equal(decide(NONE, body, never), 'answer');
  });

  it('a share of 0.5 over 200 requests lands within 0.35..0.65 (seeded), and is the same every run', () => {
    for (const seed of [1, 2, 3, 42]) {
      const fails = tally({ ...NONE, failShare: 0.5 }, 200, seed).fail;
      assert.ok(fails >= 70 && fails <= 130, `seed ${seed}: ${fails} of 200`);
      assert.equal(tally({ ...NONE, failShare: 0.5 }, 200, seed).fail, fails);
    }
  });

  it('splits one draw between reset and fail, so each share is its own', () => {
    const counts = tally({ ...NONE, resetShare: 0.2, failShare: 0.3 }, 10_000, 7);
    assert.ok(Math.abs(counts.reset / 10_000 - 0.2) < 0.02, `reset ${counts.reset}`);
    assert.ok(Math.abs(counts.fail / 10_000 - 0.3) < 0.02, `fail ${counts.fail}`);
    assert.equal(counts.reset + counts.fail + counts.answer, 10_000);
  });

  it('share 1 always, share 0 never', () => {
    assert.equal(tally({ ...NONE, resetShare: 1 }, 500, 5).reset, 500);
    assert.equal(tally({ ...NONE, failShare: 1 }, 500, 5).fail, 500);
    assert.equal(tally({ ...NONE, resetShare: 0, failShare: 0 }, 500, 5).answer, 500);
  });

  it('stalls and answers early only requests with a body', () => {
    assert.equal(decide({ ...NONE, stallRead: true }, 0, Math.random), 'answer');
    assert.equal(decide({ ...NONE, stallRead: true }, 1, Math.random), 'stall');
    assert.equal(decide({ ...NONE, stallRead: true }, undefined, Math.random), 'stall');
    const early = { ...NONE, earlyStatus: 413, earlyAfterBytes: 1000 };
    assert.equal(decide(early, 0, Math.random), 'answer');
    assert.equal(decide(early, 1000, Math.random), 'answer');
    assert.equal(decide(early, 1001, Math.random), 'early');
    assert.equal(decide(early, undefined, Math.random), 'early', 'a body of unknown size counts as larger');
  });

  it('a stalled or early request is never reset or failed', () => {
    assert.equal(decide({ ...NONE, stallRead: true, resetShare: 1 }, 5, Math.random), 'stall');
    assert.equal(decide({ ...NONE, earlyStatus: 413, failShare: 1 }, 5, Math.random), 'early');
    assert.equal(decide({ ...NONE, earlyStatus: 413, failShare: 1 }, 0, Math.random), 'fail');
  });
});

describe('POST /faults bodies', () => {
  it('reads every key', () => {
    const patch = parseFaultPatch(
      { endpoints: [1, 0, 1], down: true, refuse: 'reset', resetShare: 0.25, failShare: 0.5, latency: 'uniform:1ms:5ms', stallRead: false },
      3,
    );
    assert.deepEqual(patch, {
      endpoints: [1, 0],
      down: true,
      refuse: 'reset',
      resetShare: 0.25,
      failShare: 0.5,
      latency: { dist: 'uniform', minMs: 1, maxMs: 5 },
      stallRead: false,
    });
    assert.deepEqual(parseFaultPatch({ refuse: null }, 1), { refuse: null });
    assert.deepEqual(parseFaultPatch({}, 1), {});
  });

  it('refuses a bad body, naming the key', () => {
    const cases: Array<[unknown, string]> = [
      [[], 'body'],
      ['down', 'body'],
      [{ up: true }, 'up'],
      [{ endpoints: [] }, 'endpoints'],
      [{ endpoints: [3] }, 'endpoints'],
      [{ endpoints: [0.5] }, 'endpoints'],
      [{ endpoints: 0 }, 'endpoints'],
      [{ down: 'yes' }, 'down'],
      [{ refuse: 'open' }, 'refuse'],
      [{ resetShare: 1.5 }, 'resetShare'],
      [{ failShare: '0.5' }, 'failShare'],
      [{ latency: 200 }, 'latency'],
      [{ latency: 'soon' }, 'latency'],
      [{ stallRead: 1 }, 'stallRead'],
    ];
    for (const [body, key] of cases) {
      assert.throws(
        () => parseFaultPatch(body, 3),
        (err: unknown) => err instanceof FaultPatchError && err.key === key,
        JSON.stringify(body),
      );
    }
  });

  it('refuses shares that add up to more than 1, naming both', () => {
    checkShares(0.5, 0.5, 0);
    assert.throws(() => checkShares(0.6, 0.5, 2), /resetShare, failShare: endpoint 2/);
  });
});
