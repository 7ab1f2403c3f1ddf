// Test support (no tests here): in-test backends on ephemeral ports, an in-process proxy, and small
// clients that report everything a test asserts on (status, flags, body bytes, trailers, reset code).
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { parseConfig, type Config } from '../src/config.js';
import { startProxy, type RunningProxy } from '../src/proxy.js';

export interface Backend<S> {
  port: number;
  server: S;
  close(): Promise<void>;
}

export async function h1Backend(handler: http.RequestListener): Promise<Backend<http.Server>> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export interface H2Backend extends Backend<http2.Http2Server> {
  sessions: http2.ServerHttp2Session[];
}

export async function h2Backend(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  options: http2.ServerOptions = {},
): Promise<H2Backend> {
  const server = http2.createServer(options);
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => {
    sessions.push(s);
    s.on('error', () => {});
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, headers);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    sessions,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** The engine the suite runs on: SLUICE_PROXY_ENGINE, as `npm test` sets it (node) for its second pass over
 *  proxy/test/ (a flag in `args` still wins). Nothing else of the environment reaches a test's proxy. */
export function engineEnv(): NodeJS.ProcessEnv {
  const engine = process.env.SLUICE_PROXY_ENGINE;
  return engine === undefined ? {} : { SLUICE_PROXY_ENGINE: engine };
}

/** The engine this run's proxies use (`--engine` from SLUICE_PROXY_ENGINE, wire by default): for the few
 *  assertions on what node:http2 does where the proxy's contract leaves the engine a choice. */
export function suiteEngine(): 'node' | 'wire' {
  return configOf(['--endpoints', '127.0.0.1:1']).engine;
}

/** A proxy on ephemeral ports with the given flags (--endpoints is required). */
export async function proxy(args: string[]): Promise<RunningProxy> {
  const parsed = parseConfig(['--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', ...args], engineEnv());
  if (parsed.help) throw new Error('unexpected --help');
  return startProxy(parsed.config);
}

export function configOf(args: string[]): Config {
  const parsed = parseConfig(args, engineEnv());
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.config;
}

export interface H2Result {
  status: number | undefined;
  headers: http2.IncomingHttpHeaders;
  endStreamOnHeaders: boolean;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
  rstCode: number;
}

/** One request on `session`; resolves at the stream's close with all it saw (never rejects on a reset). */
export function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<H2Result> {
  return new Promise((resolve) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const result: H2Result = { status: undefined, headers: {}, endStreamOnHeaders: false, body: Buffer.alloc(0), trailers: undefined, rstCode: 0 };
    const chunks: Buffer[] = [];
    stream.on('response', (h, flags) => {
      result.status = Number(h[':status']);
      result.headers = h;
      result.endStreamOnHeaders = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('trailers', (t) => (result.trailers = t));
    stream.on('error', () => {});
    stream.on('close', () => {
      result.body = Buffer.concat(chunks);
      result.rstCode = stream.rstCode;
      resolve(result);
    });
    if (body !== undefined) stream.end(body);
  });
}

export interface H1Result {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  trailers: NodeJS.Dict<string>;
}

export function h1Request(port: number, opts: http.RequestOptions, body?: Buffer): Promise<H1Result> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...opts }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function connectH2(port: number, settings: http2.Settings = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, { settings });
    session.once('error', reject);
    session.once('remoteSettings', () => resolve(session));
  });
}

/** Closes a client session; at once if it is already closed (its close callback would never run). */
export function closeSession(session: http2.ClientHttp2Session): Promise<void> {
  if (session.closed || session.destroyed) return Promise.resolve();
  return new Promise((r) => session.close(() => r()));
}

/** Polls `check` until it holds or `ms` pass; resolves with its last value (assert on that). */
export async function eventually<T>(check: () => T, ms = 2000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = check();
  while (!value && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    value = check();
  }
  return value;
}

export async function scrapeMetrics(adminPort: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
  return res.text();
}

/** The value of one sample line, e.g. metric('sluice_proxy_requests_total', {protocol: 'h1'}); 0 if absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}
