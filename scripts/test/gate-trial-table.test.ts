import assert from 'node:assert/strict';
import test from 'node:test';
import { formatTrialTable, type PairOutcome } from '../gate-trial-table.js';

test('the trial table counts false alarms, detections by the expected metric and undecided pairs', () => {
  const pairs: PairOutcome[] = [
    { kind: 'A/A', exitCode: 0, failedMetrics: [], rpsRatio: 1.01, p99Ratio: 0.98 },
    { kind: 'A/A', exitCode: 1, failedMetrics: ['p99'], rpsRatio: 0.99, p99Ratio: 1.3 },
    { kind: 'A/B latency', exitCode: 1, failedMetrics: ['p99', 'rps'], rpsRatio: 0.7, p99Ratio: 1.8 },
    { kind: 'A/B latency', exitCode: 3, failedMetrics: [], rpsRatio: 0.72, p99Ratio: 1.7 },
  ];
  const out = formatTrialTable(
    [
      { kind: 'A/A', change: 'nothing' },
      { kind: 'A/B latency', change: 'backend 1 ms -> 3 ms', expected: 'p99' },
    ],
    pairs,
  );
  assert.match(out, /\| A\/A \| nothing \| 1 of 2 \(false alarms\) \| 50% \| - \| p99 1 \| 0 \| 1\.000 \| 1\.140 \|/);
  assert.match(out, /\| A\/B latency \| backend 1 ms -> 3 ms \| 1 of 2 \| 50% \| 1 \(p99\) \| p99 1, rps 1 \| 1 \| 0\.710 \| 1\.750 \|/);
});
