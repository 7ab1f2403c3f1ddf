// The proxy's control-plane client: one HTTP/2 connection to the Destination carrying every gRPC stream, with its
// own receive windows (--control-stream-window, --control-conn-window), as linkerd2-proxy's control client has. On
// node:http2 rather than @grpc/grpc-js because grpc-js sets the stream and the connection window from one option
// (`grpc-node.flow_control_window`: SETTINGS_INITIAL_WINDOW_SIZE and the connection's WINDOW_UPDATE both take its
// value) and keeps its session and streams to itself, and seed 000 needs the two apart and a stream nobody reads
// whose window can be watched. The gRPC part is small: server-streaming calls, messages framed with a 5-byte
// prefix (uncompressed), the status from the trailers; messages are encoded by the caller (proto-loader).
import http2 from 'node:http2';
import { formatAddress, type Address } from '../address.js';
import { sessionMemoryMb } from '../session/memory.js';

/** gRPC status codes used here (grpc/doc/statuscodes.md). */
export const GRPC_STATUS = { OK: 0, CANCELLED: 1, UNKNOWN: 2, RESOURCE_EXHAUSTED: 8, INTERNAL: 13, UNAVAILABLE: 14 } as const;
const STATUS_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL',
  'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? `STATUS_${code}`;
}

/** gRPC's default limit on a received message (grpc-js and grpc-go: 4 MiB). */
const MAX_MESSAGE_BYTES = 4 * 2 ** 20;
const { NGHTTP2_CANCEL } = http2.constants;

export interface CallStatus {
  code: number;
  details: string;
}

export interface GrpcMethod<Req, Res> {
  path: string;
  requestSerialize: (value: Req) => Buffer;
  responseDeserialize: (bytes: Buffer) => Res;
}

export interface CallHandlers<Res> {
  /** Each message as it is read; absent: the stream is never read (its bytes stay in its receive window). */
  onMessage?: (message: Res) => void;
  /** The response headers arrived: the control plane accepted the call. */
  onOpen?: () => void;
  /** Once, when the call is over (OK only after every message was delivered). */
  onStatus: (status: CallStatus) => void;
}

/** What a control stream is, for metrics: the RPC, the service it asks about, whether it is read. */
export interface CallLabel {
  rpc: string;
  service: string;
  read: boolean;
}

export interface ControlWindows {
  /** The connection's receive window left: what the control plane may still send (absent: not connected). */
  connection?: number;
  streams: (CallLabel & { window: number; unreadBytes: number })[];
}

export interface ControlCall {
  cancel(): void;
}

/** The control-plane client of either engine: this file's on node:http2, or wire/control-client.ts on h2/. */
export interface ControlPlaneClient {
  serverStream<Req, Res>(method: GrpcMethod<Req, Res>, request: Req, label: CallLabel, handlers: CallHandlers<Res>): ControlCall;
  windows(): ControlWindows;
  close(): void;
}

export interface ControlClientOptions {
  address: Address;
  /** SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window, bytes. */
  streamWindow: number;
  /** The connection's receive window, bytes (65535 grows to it with WINDOW_UPDATE once connected). */
  connWindow: number;
}

export class ControlClient implements ControlPlaneClient {
  private session: http2.ClientHttp2Session | undefined;
  private readonly calls = new Map<http2.ClientHttp2Stream, CallLabel>();
  private closed = false;

  constructor(private readonly options: ControlClientOptions) {}

  /** Starts a server-streaming call of `method` with `request` on the control connection (made on demand). */
  serverStream<Req, Res>(method: GrpcMethod<Req, Res>, request: Req, label: CallLabel, handlers: CallHandlers<Res>): ControlCall {
    let status: CallStatus | undefined;
    let reported = false;
    const report = (s: CallStatus): void => {
      if (reported) return;
      reported = true;
      handlers.onStatus(s);
    };
    let stream: http2.ClientHttp2Stream;
    try {
      if (this.closed) throw new Error('client closed');
      stream = this.current().request({
        ':method': 'POST',
        ':path': method.path,
        ':scheme': 'http',
        ':authority': formatAddress(this.options.address),
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': 'sluice-proxy',
      });
    } catch (err) {
      setImmediate(() => report({ code: GRPC_STATUS.UNAVAILABLE, details: (err as Error).message }));
      return { cancel: () => {} };
    }
    this.calls.set(stream, label);
    let cancelled = false;
    let lastError: Error | undefined;
    const fail = (code: number, details: string): void => {
      status ??= { code, details };
      if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
    };
    stream.on('error', (err) => (lastError = err));
    stream.on('response', (headers, flags) => {
      const httpStatus = Number(headers[':status']);
      if (httpStatus !== 200) return fail(httpStatusCode(httpStatus), `HTTP status ${httpStatus}`);
      if (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) status = statusOf(headers); // trailers-only
      handlers.onOpen?.();
    });
    stream.on('trailers', (trailers) => (status = statusOf(trailers)));
    if (handlers.onMessage) {
      const onMessage = handlers.onMessage;
      const decoder = new MessageDecoder();
      stream.on('data', (chunk: Buffer) => {
        let frames: Buffer[];
        try {
          frames = decoder.push(chunk);
        } catch (err) {
          return fail(err instanceof TooLarge ? GRPC_STATUS.RESOURCE_EXHAUSTED : GRPC_STATUS.INTERNAL, (err as Error).message);
        }
        for (const frame of frames) {
          if (status && status.code !== GRPC_STATUS.OK) return;
          let message: Res;
          try {
            message = method.responseDeserialize(frame);
          } catch (err) {
            return fail(GRPC_STATUS.INTERNAL, `cannot decode a message: ${(err as Error).message}`);
          }
          onMessage(message);
        }
      });
    } else {
      stream.pause(); // never read: Node returns no stream credit, so the control plane can send one window's worth
    }
    stream.on('close', () => {
      this.calls.delete(stream);
      if (cancelled) return report({ code: GRPC_STATUS.CANCELLED, details: 'cancelled by the proxy' });
      if (status) return report(status);
      const why = lastError?.message ?? (stream.rstCode ? `stream reset (code ${stream.rstCode})` : 'stream ended without a status');
      report({ code: stream.rstCode || lastError ? GRPC_STATUS.UNAVAILABLE : GRPC_STATUS.INTERNAL, details: why });
    });
    stream.end(frame(method.requestSerialize(request)));
    return {
      cancel: () => {
        cancelled = true;
        if (!stream.destroyed) stream.close(NGHTTP2_CANCEL);
      },
    };
  }

  /** The receive windows now (read at each scrape). */
  windows(): ControlWindows {
    const s = this.session;
    const connection = s && !s.destroyed && !s.connecting ? s.state.localWindowSize : undefined;
    const streams = [...this.calls].map(([stream, label]) => ({
      ...label,
      window: stream.destroyed ? 0 : (stream.state.localWindowSize ?? 0),
      unreadBytes: label.read ? 0 : stream.readableLength,
    }));
    return connection === undefined ? { streams } : { connection, streams };
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
  }

  private current(): http2.ClientHttp2Session {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return s;
    const { streamWindow, connWindow } = this.options;
    const session = http2.connect(`http://${formatAddress(this.options.address)}`, {
      settings: { initialWindowSize: streamWindow, enablePush: false },
      maxSessionMemory: sessionMemoryMb(connWindow),
    });
    session.unref(); // discovery never keeps a process alive on its own (the proxy's listeners do)
    session.once('connect', () => {
      // The connection window starts at 65535 whatever SETTINGS say; only WINDOW_UPDATE changes it.
      if (!session.destroyed) session.setLocalWindowSize(connWindow);
    });
    session.on('error', () => {}); // each stream on it fails with the error and is opened again after backoff
    const drop = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('goaway', drop);
    session.on('close', drop);
    return (this.session = session);
  }
}

/** One gRPC message frame: uncompressed flag, 4-byte length, the message. */
export function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** A message above gRPC's 4 MiB default limit (RESOURCE_EXHAUSTED). */
export class TooLarge extends Error {}

/** Splits a gRPC response body into messages, across DATA frames. */
export class MessageDecoder {
  private pending: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk);
    this.length += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      if (this.length < 5) return out;
      const buffer = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [buffer];
      if (buffer[0]! & 1) throw new Error('a compressed message, and no compression was offered');
      const size = buffer.readUInt32BE(1);
      if (size > MAX_MESSAGE_BYTES) throw new TooLarge(`a message of ${size} bytes, above the ${MAX_MESSAGE_BYTES} limit`);
      if (this.length < 5 + size) return out;
      out.push(buffer.subarray(5, 5 + size));
      this.pending = [buffer.subarray(5 + size)];
      this.length -= 5 + size;
    }
  }
}

/** The call's status from its trailers (or a trailers-only response's headers). */
export function statusOf(headers: Readonly<Record<string, string | string[] | undefined>>): CallStatus {
  const raw = headers['grpc-status'];
  const code = raw === undefined ? GRPC_STATUS.UNKNOWN : Number(raw);
  let details = String(headers['grpc-message'] ?? (raw === undefined ? 'no grpc-status' : ''));
  try {
    details = decodeURIComponent(details);
  } catch {
    // not percent-encoded after all: as sent
  }
  return { code: Number.isInteger(code) ? code : GRPC_STATUS.UNKNOWN, details };
}

/** gRPC's mapping of an HTTP status without grpc-status (grpc/doc/http-grpc-status-mapping.md), in short. */
export function httpStatusCode(status: number): number {
  return [429, 502, 503, 504].includes(status) ? GRPC_STATUS.UNAVAILABLE : GRPC_STATUS.UNKNOWN;
}
