// The wire engine's client-facing HTTP/2 server (--engine wire): the role of downstream/h2.ts, on H2Connection.
// The listener (../listener.ts) hands each h2c connection over by emitting 'connection' on `server`, the
// socket paused with the preface bytes it read unshifted. Each connection gets a WireSession and its
// per-session stack (session-stack.ts); each stream becomes a ProxyRequest (body: InboundBody, strict credit)
// and its response goes back as HEADERS, DATA with backpressure (sendBody) and trailers or an empty END_STREAM.
import net from 'node:net';
import { Cancellation } from '../cancel.js';
import { endsWithHeaders, h2ProxyRequest, resetCodeFor } from '../downstream/h2-common.js';
import { H2_CODE } from '../h2-codes.js';
import type { ProxyRequest, ProxyResponse, Service } from '../service.js';
import { InboundBody, sendBody, type BodySender } from './body.js';
import { fieldList, headerObject } from './headers.js';
import { WireSession, type StreamHandler } from './session.js';
import { SessionStack, type SessionStackConfig } from './session-stack.js';

export interface WireDownstreamConfig extends SessionStackConfig {
  service: Service;
}

const EMPTY = Buffer.alloc(0);

export class WireDownstream {
  /** Never listens: the listener emits 'connection' on it. */
  readonly server = new net.Server();
  private readonly sessions = new Set<SessionStack>();

  constructor(private readonly config: WireDownstreamConfig) {
    this.server.on('connection', (socket: net.Socket) => this.accept(socket));
  }

  /** Two-step GOAWAY to every client: in-flight streams finish, no new ones start; closed after --drain-timeout. */
  drain(): void {
    for (const stack of this.sessions) stack.drain();
  }

  destroyAll(): void {
    for (const stack of this.sessions) stack.session.conn.close();
  }

  private accept(socket: net.Socket): void {
    const stack: SessionStack = new SessionStack(
      this.config,
      (events, opts) => new WireSession(socket, 'server', events, opts),
      (session, id, headers, endStream) => this.open(stack, session, id, headers, endStream),
    );
    this.sessions.add(stack);
    socket.once('close', () => this.sessions.delete(stack));
    // The listener paused it (the preface bytes are unshifted): read from the first byte now.
    socket.resume();
  }

  private open(stack: SessionStack, session: WireSession, id: number, headers: Array<[string, string]>, endStream: boolean): StreamHandler | undefined {
    if (!stack.streamOpened()) {
      session.conn.reset(id, H2_CODE.REFUSED_STREAM); // over --max-session-buffered-bytes
      return undefined;
    }
    const stream = new ServerStream(this.config, stack, session, id);
    stream.start(headerObject(headers), endStream);
    return stream;
  }
}

/** One client stream: its request into the service, the response back, and how it ends. */
class ServerStream implements StreamHandler {
  private readonly body: InboundBody;
  private readonly controller = new Cancellation();
  private readonly closedMetric: () => void;
  private req!: ProxyRequest;
  private sender: BodySender | undefined;
  /** Our END_STREAM went out (or is about to): the response is complete, a reset no longer cancels it. */
  private complete = false;
  private done = false;

  constructor(
    private readonly config: WireDownstreamConfig,
    private readonly stack: SessionStack,
    private readonly session: WireSession,
    private readonly id: number,
  ) {
    this.closedMetric = config.metrics.h2.streamOpened('downstream');
    this.body = new InboundBody(session.conn, id);
  }

  start(headers: Record<string, string | string[]>, endStream: boolean): void {
    if (endStream) this.body.deliver(EMPTY, true);
    this.req = h2ProxyRequest(headers, this.body, endStream, this.controller.signal);
    this.config.service(this.req).then(
      (res) => this.respond(res),
      (err: unknown) => {
        this.complete = true;
        this.reset(resetCodeFor(err));
      },
    );
  }

  onData(data: Buffer, endStream: boolean): void {
    this.body.deliver(data, endStream);
  }

  /** Request trailers: the end of the body (the proxy's model carries none, as on the node engine). */
  onHeaders(_headers: Array<[string, string]>, endStream: boolean): void {
    if (endStream) this.body.deliver(EMPTY, true);
  }

  onWritable(): void {
    this.sender?.onWritable();
  }

  onReset(): void {
    if (this.done) return;
    // The client left (RST_STREAM, or its connection closed) before the response completed: cancel upstream
    // first, so the upstream client cancels its own way (RST_STREAM CANCEL, or --absorb-cancels) ...
    if (!this.complete) this.controller.abort();
    // ... then let go of the response body without destroying it (the upstream owns it).
    this.sender?.stop(false);
    this.body.reset();
    this.finish();
  }

  private respond(res: ProxyResponse): void {
    if (this.done) return void res.body.destroy();
    const { conn } = this.session;
    const endStream = endsWithHeaders(this.req, res);
    conn.respond(this.id, fieldList(res.headers, [[':status', String(res.status)]]), endStream);
    if (this.done) return void res.body.destroy(); // the connection failed writing them
    if (endStream) {
      this.complete = true;
      res.body.resume(); // nothing to forward; let the upstream stream finish
      return this.ended();
    }
    res.trailers.catch((err: unknown) => this.reset(resetCodeFor(err)));
    this.sender = sendBody(conn, this.id, res.body, {
      onEnd: () => this.sendEnd(res),
      // A body error comes with the trailers' rejection, whose code (the upstream's) is the one to pass on.
      onError: (err) => res.trailers.then(() => this.reset(resetCodeFor(err)), () => {}),
    });
  }

  /** The body's last byte has left: trailers, or an empty END_STREAM, once the upstream's are known. */
  private sendEnd(res: ProxyResponse): void {
    res.trailers.then(
      (trailers) => {
        if (this.done) return;
        this.complete = true;
        const { conn } = this.session;
        const fields = trailers === undefined ? undefined : fieldList(trailers);
        if (fields !== undefined && fields.length > 0) conn.sendTrailers(this.id, fields);
        else conn.sendData(this.id, EMPTY, true);
        this.ended();
      },
      () => {}, // reset with the upstream's code (respond's catch)
    );
  }

  /** Our END_STREAM is written (or waits behind a full socket): end the request side the proxy's way once it
   *  has left. A request still being sent (an early 413 or 4xx) is stopped with RST_STREAM(NO_ERROR) (RFC 9113
   *  8.1), as downstream/h2.ts endRequestSide does; a complete one closes the stream. */
  private ended(): void {
    this.session.whenEnded(this.id, () => {
      if (this.done) return;
      if (this.session.conn.streamState(this.id) === 'closed') return this.finish();
      this.session.conn.reset(this.id, H2_CODE.NO_ERROR); // onReset finishes
    });
  }

  private reset(code: number): void {
    if (this.done) return;
    this.session.conn.reset(this.id, code); // onReset runs (local) and finishes
    if (!this.done) this.onReset(); // the stream was gone already (the connection closed)
  }

  private finish(): void {
    this.done = true;
    this.closedMetric();
    this.stack.streamClosed();
    this.session.release(this.id);
  }
}
