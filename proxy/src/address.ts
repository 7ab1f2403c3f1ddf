// HOST:PORT as written on a command line: 127.0.0.1:4140, localhost:9001, [::1]:4140.

export interface Address {
  host: string;
  port: number;
}

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Parses HOST:PORT; null when malformed or out of range. `allowZero` lets a listener ask for a free port. */
export function parseAddress(input: string, allowZero = false): Address | null {
  const match = HOST_PORT.exec(input.trim());
  if (!match) return null;
  const port = Number(match[2]);
  if (port > 65535 || (port === 0 && !allowZero)) return null;
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

export function formatAddress({ host, port }: Address): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
