// The order in which a run measures repetitions. Interleaved (the default), every cell's first repetition
// comes before any cell's second, so a machine that drifts (thermal throttling, a neighbour's job) spreads its
// drift over every cell instead of loading it onto the last ones. Each visit restarts the cell's processes:
// the simplest way to keep visits independent, and fair, since every repetition then pays the same start.
import type { Cell } from '../matrix/cells.js';
import type { RepOrder } from '../results/model.js';

/** One stay at a cell: its processes started, `reps` repetitions measured (numbered from `firstRep`), stopped. */
export interface Visit {
  cell: Cell;
  firstRep: number;
  reps: number;
}

/**
 * The visits that bring every cell to `reps` repetitions. `done` says how many a cell already has (a resumed
 * run); a cell already complete gets none.
 */
export function scheduleVisits(cells: readonly { cell: Cell; done: number }[], reps: number, order: RepOrder): Visit[] {
  const todo = cells.filter((c) => c.done < reps);
  if (order === 'cell') return todo.map(({ cell, done }) => ({ cell, firstRep: done, reps: reps - done }));
  const visits: Visit[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const { cell, done } of todo) if (rep >= done) visits.push({ cell, firstRep: rep, reps: 1 });
  }
  return visits;
}
