// Binds one server per endpoint: ports P..P+N-1, or ephemeral ports when P is 0.
import type { AddressInfo, Server } from 'node:net';

export class ListenError extends Error {
  constructor(readonly host: string, readonly port: number, cause: Error) {
    super(`cannot listen on ${host}:${port}: ${cause.message}`, { cause });
    this.name = 'ListenError';
  }
}

/** Listens every server; returns their ports in order. On any failure closes those already listening and throws. */
export async function listenAll(servers: Server[], host: string, basePort: number): Promise<number[]> {
  const results = await Promise.allSettled(
    servers.map((server, i) => listenOne(server, host, basePort === 0 ? 0 : basePort + i)),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.filter((s) => s.listening).map((s) => new Promise((resolve) => s.close(resolve))));
    throw failed.reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<number>).value);
}

/** Listens one server on host:port; rejects with a ListenError. */
export function listenOne(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(new ListenError(host, port, err));
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
