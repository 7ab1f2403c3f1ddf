// Clients for the fault tests: what a proxy sees of a backend's faults, from the socket up. Not a test file.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { parseBackendArgs, type BackendConfig } from '../backends/config.js';

export function config(argv: string[]): BackendConfig {
  const command = parseBackendArgs(argv);
  assert.equal(command.kind, 'run');
  return command.config;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * What a TCP connect to the port meets: 'ECONNREFUSED', 'ECONNRESET' (accepted, then reset), or 'open'
 * (still open `watchMs` after connecting).
 */
export function connectOutcome(port: number, watchMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let timer: NodeJS.Timeout | undefined;
    const done = (outcome: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    socket.on('connect', () => (timer = setTimeout(() => done('open'), watchMs)));
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.on('close', () => done('closed'));
  });
}

export interface H1Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTP/1.1 request; rejects with the socket's error (ECONNRESET, ...). */
export function h1Request(port: number, options: http.RequestOptions = {}, body?: Buffer): Promise<H1Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function h2Connect(port: number, options: http2.ClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`, options);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** A PING round trip: every frame the server sent before its ACK (SETTINGS, WINDOW_UPDATE) has been read. */
export function ping(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
}

export interface H2Outcome {
  status?: number;
  body: Buffer;
  /** The stream's RST_STREAM code as the client saw it (0 when it ended cleanly or with NO_ERROR). */
  rstCode: number;
  error?: string;
}

/** One h2 request, settled when its stream closes, however it closes. */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = {}, body?: Buffer): Promise<H2Outcome> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': '/', ...headers });
    const chunks: Buffer[] = [];
    const outcome: H2Outcome = { body: Buffer.alloc(0), rstCode: 0 };
    stream.on('response', (h) => (outcome.status = Number(h[':status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err: NodeJS.ErrnoException) => (outcome.error = err.code ?? err.message));
    stream.on('close', () => {
      outcome.rstCode = stream.rstCode ?? 0;
      outcome.body = Buffer.concat(chunks);
      resolve(outcome);
    });
    stream.end(body);
  });
}

/** Everything a raw socket received until it closed, and how it closed. */
export interface RawEnd {
  received: Buffer;
  error?: string;
}

export function rawEnd(socket: net.Socket, received: Buffer[]): Promise<RawEnd> {
  return new Promise((resolve) => {
    let error: string | undefined;
    socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
    socket.on('close', () => resolve({ received: Buffer.concat(received), ...(error ? { error } : {}) }));
  });
}

export function rawConnect(port: number, options: net.NetConnectOpts = { port }): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...options, host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with what a socket receives from now on, once `predicate` accepts it; rejects after `ms`. */
export function until(socket: net.Socket, predicate: (text: string) => boolean, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.off('data', onData);
      reject(new Error(`no matching answer within ${ms} ms; got ${JSON.stringify(text.slice(0, 200))}`));
    }, ms);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (predicate(text)) {
        clearTimeout(timer);
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
}
