// Reading an OutcomeHistograms' every-outcome histogram in a test: made, read and freed at once (its WebAssembly
// memory is outside the JS heap).
import type { LatencySummaryMs } from '../../load/types.js';
import type { OutcomeHistograms } from '../../load/statistic/outcome-histograms.js';

export function allOf(histograms: OutcomeHistograms): { count: number; summaryMs(): LatencySummaryMs } {
  const all = histograms.all();
  try {
    const summary = all.summaryMs();
    return { count: all.count, summaryMs: () => summary };
  } finally {
    all.destroy();
  }
}
