// Connect timeout (--connect-timeout, linkerd: 1 s) for the upstream clients: a TCP connect that has not
// completed in time is destroyed with ETIMEDOUT, which errors.ts reads as connect-timeout. The balancer then
// fails the endpoint, and the retry layer may send the request elsewhere (it was never written).
import type net from 'node:net';

export function watchConnect(socket: net.Socket, timeoutMs: number, onTimeout: () => void): void {
  if (!socket.connecting || timeoutMs <= 0) return; // a reused keep-alive socket is connected already
  const timer = setTimeout(() => {
    onTimeout();
    socket.destroy(Object.assign(new Error(`connect timed out after ${timeoutMs}ms`), { code: 'ETIMEDOUT' }));
  }, timeoutMs);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('close', clear);
}
