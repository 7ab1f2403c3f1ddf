// Which connection gets the next request: every pooled client's choice (pool.ts, and h1.ts / grpc.ts, whose
// libraries keep their own connections but not the choice among them).

/**
 * The least busy of `items` by `load`, ties broken round robin from `cursor` (a counter the caller advances):
 * with every connection idle, as in an open loop at a modest rate, requests still spread over all of them
 * instead of piling onto the first.
 */
export function leastBusy<T>(items: readonly T[], load: (item: T) => number, cursor: number): T {
  const n = items.length;
  const start = cursor % n;
  let best = items[start]!;
  let bestLoad = load(best);
  for (let k = 1; k < n; k++) {
    const item = items[(start + k) % n]!;
    const l = load(item);
    if (l < bestLoad) {
      best = item;
      bestLoad = l;
    }
  }
  return best;
}
