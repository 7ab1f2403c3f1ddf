// Test support (no tests here): HTTP/1.1 spoken by hand over net sockets, for what Node's own server and client
// hide: when a connection closes, with FIN or reset, and whether bytes arrived before an error.
import net from 'node:net';

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** 1 for the first request on its connection. */
  nthOnConnection: number;
}

export interface RawBackend {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  requests: RawRequest[];
  close(): Promise<void>;
}

/** A minimal HTTP/1.1 server (Content-Length bodies only). `onRequest` answers by writing to the socket itself. */
export async function rawH1Backend(onRequest: (socket: net.Socket, req: RawRequest) => void): Promise<RawBackend> {
  const sockets = new Set<net.Socket>();
  const backend: RawBackend = { port: 0, connections: 0, requests: [], close: async () => {} };
  const server = net.createServer((socket) => {
    backend.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    let nth = 0;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const [line, ...fields] = buffered.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const field of fields) {
          const colon = field.indexOf(':');
          headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length);
        buffered = buffered.subarray(end + 4 + length);
        const [method = '', path = ''] = (line ?? '').split(' ');
        const req = { method, path, headers, body, nthOnConnection: ++nth };
        backend.requests.push(req);
        onRequest(socket, req);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  backend.port = (server.address() as net.AddressInfo).port;
  backend.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  };
  return backend;
}

export function okResponse(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

export interface RawExchange {
  /** Every byte received before the connection ended or failed. */
  received: Buffer;
  /** The socket error, if the connection failed (ECONNRESET, EPIPE). */
  error: NodeJS.ErrnoException | undefined;
  /** The peer's FIN arrived. */
  ended: boolean;
}

/** Resolves once `socket` closes, with what it received; reading starts at once unless `paused`. */
export function collect(socket: net.Socket): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const result: RawExchange = { received: Buffer.alloc(0), error: undefined, ended: false };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => (result.ended = true));
    socket.on('error', (err) => (result.error ??= err));
    socket.on('close', () => {
      result.received = Buffer.concat(chunks);
      resolve(result);
    });
  });
}

export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The whole Content-Length body arrived. */
  complete: boolean;
}

/** The first response in `bytes` (Content-Length framing). */
export function parseResponse(bytes: Buffer): ParsedResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [line, ...fields] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const field of fields) {
    const colon = field.indexOf(':');
    headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = bytes.subarray(end + 4, end + 4 + length);
  return { status: Number((line ?? '').split(' ')[1]), headers, body, complete: body.length === length };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
