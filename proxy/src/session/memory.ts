// node:http2's per-session memory bound, sized from the connection window (the node engine's three session makers
// use it: downstream/h2.ts, upstream/h2.ts, discovery/control-client.ts).

/** Node refuses new streams past maxSessionMemory (default 10 MB); leave room for two full connection
 *  windows so that guard is never what a large-window cell measures. */
export function sessionMemoryMb(connWindow: number): number {
  return 10 + Math.ceil((2 * connWindow) / 2 ** 20);
}
