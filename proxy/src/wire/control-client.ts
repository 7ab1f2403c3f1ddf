// The control-plane client on sluice's own engine (--engine wire): the same gRPC server-streaming calls over one
// connection as discovery/control-client.ts, on h2/'s H2Connection. The difference is the one seed 000 turns on:
// receive credit is strict here (the h2 crate's release_capacity, what linkerd2-proxy's client does). A stream
// nobody reads keeps its bytes against the *connection* window too, so with linkerd's old 65535-byte connection
// window a few unread profile streams stop every other stream on the connection, the incident itself; node:http2
// returns connection credit as DATA arrives and cannot show it (proxy/test/node-h2-credit.test.ts).
import net from 'node:net';
import { H2_ERROR } from '../../../h2/errors.js';
import { formatAddress } from '../address.js';
import {
  frame,
  GRPC_STATUS,
  httpStatusCode,
  MessageDecoder,
  TooLarge,
  statusOf,
  type CallHandlers,
  type CallLabel,
  type CallStatus,
  type ControlCall,
  type ControlClientOptions,
  type ControlPlaneClient,
  type ControlWindows,
  type GrpcMethod,
} from '../discovery/control-client.js';
import { WireSession } from './session.js';

/** A header list as an object (repeated names keep the last; gRPC's status fields are single). */
function asRecord(headers: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) out[name] = value;
  return out;
}

interface OpenCall {
  label: CallLabel;
  /** Bytes received and never read (an unread stream's): what holds the windows shut. */
  unread: number;
}

export class WireControlClient implements ControlPlaneClient {
  private session: WireSession | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private closed = false;

  constructor(private readonly options: ControlClientOptions) {}

  serverStream<Req, Res>(method: GrpcMethod<Req, Res>, request: Req, label: CallLabel, handlers: CallHandlers<Res>): ControlCall {
    let status: CallStatus | undefined;
    let reported = false;
    let cancelled = false;
    const report = (s: CallStatus): void => {
      if (reported) return;
      reported = true;
      handlers.onStatus(s);
    };
    let session: WireSession;
    let id: number;
    const call: OpenCall = { label, unread: 0 };
    const decoder = new MessageDecoder();
    const fail = (code: number, details: string): void => {
      status ??= { code, details };
      session.conn.reset(id, H2_ERROR.CANCEL);
    };
    const end = (resetCode?: number): void => {
      this.calls.delete(id);
      if (cancelled) return report({ code: GRPC_STATUS.CANCELLED, details: 'cancelled by the proxy' });
      if (status) return report(status);
      if (resetCode !== undefined) return report({ code: GRPC_STATUS.UNAVAILABLE, details: `stream reset (code ${resetCode})` });
      report({ code: GRPC_STATUS.INTERNAL, details: 'stream ended without a status' });
    };
    try {
      if (this.closed) throw new Error('client closed');
      session = this.current();
      const headers: Array<[string, string]> = [
        [':method', 'POST'],
        [':scheme', 'http'],
        [':authority', formatAddress(this.options.address)],
        [':path', method.path],
        ['content-type', 'application/grpc'],
        ['te', 'trailers'],
        ['user-agent', 'sluice-proxy'],
      ];
      let headersSeen = false;
      id = session.request(headers, false, {
        onHeaders: (fields, endStream) => {
          const h = asRecord(fields);
          if (!headersSeen) {
            headersSeen = true;
            const httpStatus = Number(h[':status']);
            if (httpStatus !== 200) return fail(httpStatusCode(httpStatus), `HTTP status ${httpStatus}`);
            if (endStream) status = statusOf(h); // trailers-only
            else handlers.onOpen?.();
          } else {
            status = statusOf(h);
          }
          if (endStream) end();
        },
        onData: (data, endStream) => {
          if (!handlers.onMessage) {
            // Never read, never credited: its bytes hold the stream's window and the connection's (seed 000).
            call.unread += data.length;
          } else {
            session.conn.consume(id, data.length);
            let messages: Buffer[];
            try {
              messages = decoder.push(Buffer.from(data));
            } catch (err) {
              return fail(err instanceof TooLarge ? GRPC_STATUS.RESOURCE_EXHAUSTED : GRPC_STATUS.INTERNAL, (err as Error).message);
            }
            for (const m of messages) {
              if (status && status.code !== GRPC_STATUS.OK) break;
              try {
                handlers.onMessage(method.responseDeserialize(m));
              } catch (err) {
                return fail(GRPC_STATUS.INTERNAL, `cannot decode a message: ${(err as Error).message}`);
              }
            }
          }
          if (endStream) end();
        },
        onReset: (code) => end(code),
      });
    } catch (err) {
      setImmediate(() => report({ code: GRPC_STATUS.UNAVAILABLE, details: (err as Error).message }));
      return { cancel: () => {} };
    }
    this.calls.set(id, call);
    session.conn.sendData(id, frame(method.requestSerialize(request)), true);
    return {
      cancel: () => {
        cancelled = true;
        session.conn.reset(id, H2_ERROR.CANCEL);
      },
    };
  }

  windows(): ControlWindows {
    const conn = this.session?.conn;
    const open = conn && conn.state !== 'closed';
    const streams = [...this.calls].map(([id, { label, unread }]) => ({
      ...label,
      window: open ? conn.receiveWindow(id) : 0,
      unreadBytes: unread,
    }));
    return open ? { connection: conn.receiveWindow(0), streams } : { streams };
  }

  close(): void {
    this.closed = true;
    this.session?.conn.close();
  }

  private current(): WireSession {
    const s = this.session;
    if (s && s.conn.state === 'open') return s;
    const { address, streamWindow, connWindow } = this.options;
    const socket = net.connect({ host: address.host, port: address.port });
    socket.unref(); // discovery never keeps a process alive on its own (the proxy's listeners do)
    const session = new WireSession(
      socket,
      'client',
      {
        onGoaway: () => {
          if (this.session === session) this.session = undefined;
        },
        onClose: () => {
          if (this.session === session) this.session = undefined;
        },
      },
      // The wire engine opens the connection window with its first WINDOW_UPDATE, so connWindow holds from the start.
      { settings: { initialWindowSize: streamWindow, enablePush: false }, connectionWindow: connWindow },
    );
    socket.on('error', () => {}); // each stream fails with the connection and is opened again after backoff
    return (this.session = session);
  }
}
