// The labels every live series and every pushed summary carries (README "The names"): one mapping from a cell's
// params, shared by the live exporter and the pushed summaries so a dashboard variable filters both alike.
import type { CellParams } from '../matrix/cells.js';
import type { RunInfo } from '../results/model.js';

export type CellLabels = Record<'matrix' | 'cell' | 'protocol' | 'stream_window' | 'conn_window' | 'adaptive' | 'concurrency' | 'endpoints' | 'rtt_ms', string>;

/** `cell`: a matrix cell or a cell's result (both have id and params); values print as the params do (`65535`, `true`, `0`). */
export function cellLabels(matrix: string, cell: { id: string; params: CellParams }): CellLabels {
  const p = cell.params;
  return {
    matrix,
    cell: cell.id,
    protocol: p.protocol,
    stream_window: String(p.streamWindow),
    conn_window: String(p.connWindow),
    adaptive: String(p.adaptive),
    concurrency: String(p.concurrency),
    endpoints: String(p.endpoints),
    rtt_ms: String(p.rttMs),
  };
}

/** The `git_revision` label: the commit, `-dirty` when the tree had changes, `unknown` outside a checkout (an empty value would drop the label). */
export function gitRevisionLabel(git: RunInfo['git']): string {
  return git ? `${git.commit}${git.dirty ? '-dirty' : ''}` : 'unknown';
}
