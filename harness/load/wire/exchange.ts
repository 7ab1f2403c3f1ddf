// One request of the wire pool (pool.ts): a stream, its response so far, and its place in the deadline list.
// The pool picks its exchange class once, when it is built, so a feature that is off costs a request nothing:
// tracing wraps the class to read x-sluice-endpoint (withEndpoint), a rapid-reset attacker settles each
// request as soon as its HEADERS and RST_STREAM are written (AttackExchange), server streaming reads bodies
// (stream-exchange.ts). What an exchange reports to its pool is the ExchangePool declared here, so this file
// imports no pool and the pool can import it.
import { ENDPOINT_HEADER } from '../payload.js';
import type { Slot as PoolSlot } from '../pool/pool.js';
import { RAMP_CALLS } from '../statistic/ramp.js';
import type { Recorder, RequestTimes } from '../statistic/recorder.js';
import type { MessageFramer, StreamedResponse } from './messages.js';
import { WireStream, type WireConnection } from './stream.js';

/** What the pool tells every exchange it makes: the request, encoded once. */
export interface WireRequestSpec {
  /** The request's HPACK header block, encoded once (hpack-encode.ts). */
  headerBlock: Buffer;
  body: Buffer | undefined;
  /** A finished response: undefined when it succeeded, else its error class (judge may record more, e.g. a RST sent). */
  judge(exchange: Exchange): string | undefined;
  /** Server streaming: responses are read as messages (stream-exchange.ts). Absent, bodies are only counted. */
  streaming?: StreamingSpec;
}

export interface StreamingSpec {
  /** Messages each response should carry. */
  messages: number;
  /** The framer for one response, made at its first body byte (its headers are in), or undefined if it cannot be read as messages. */
  framer(response: StreamedResponse): MessageFramer | undefined;
  /** StreamExchange, handed to the pool through the spec (so the pool chooses it without knowing the class). */
  exchange: ExchangeClass;
}

/** What an exchange reports to its pool (pool.ts's WirePool), declared here so that an exchange needs no pool class. */
export interface ExchangePool {
  readonly recorder: Recorder;
  finished(exchange: Exchange): void;
  streamMessage(exchange: Exchange, latencyMs: number): void;
  stalled(exchange: Exchange): void;
  attackSent(exchange: Exchange): void;
  resetByPeer(exchange: Exchange, code: number): void;
  aborted(exchange: Exchange, errorClass: string): void;
}

/** The wire pool's slot: a wire connection and the exchanges waiting out its back-off. */
export type Slot = PoolSlot<WireConnection, Exchange>;

export class Exchange extends WireStream {
  status = 0;
  contentLength = -1;
  bytes = 0;
  grpcStatus = -1;
  settled = false;
  attempts = 1;
  /** The ramp's calls (the connection's first RAMP_CALLS): when the response's HEADERS arrived (0: not yet). */
  headersAt = 0;
  prev: Exchange | undefined = undefined;
  next: Exchange | undefined = undefined;
  resolve: () => void = noop;
  reject: (err: Error) => void = noop;
  /** The answer's x-sluice-endpoint, set by a traced exchange only (declared, so no other exchange carries it). */
  declare endpoint?: string;

  constructor(
    protected readonly pool: ExchangePool,
    readonly slot: Slot,
    readonly times: RequestTimes,
    readonly deadline: number,
    spec: WireRequestSpec,
  ) {
    super(spec.headerBlock, spec.body);
  }

  onHeader(name: string, value: string): void {
    // The decoder hands over the static table's own '200' string for the common answer: no parse.
    if (name === ':status') this.status = value === '200' ? 200 : Number(value);
    else if (name === 'content-length') this.contentLength = Number(value);
    else if (name === 'grpc-status') this.grpcStatus = Number(value);
  }

  onHeadersEnd(endStream: boolean): void {
    // An informational (1xx) answer is followed by the real one.
    if (!endStream && this.status >= 100 && this.status < 200) this.status = 0;
    else if (endStream) this.pool.finished(this);
    else if (this.call < RAMP_CALLS) this.headersAt = this.conn!.now;
  }

  onData(bytes: number, endStream: boolean): void {
    this.bytes += bytes;
    this.pool.recorder.bodyBytes(bytes, this.conn!.now);
    if (endStream) this.pool.finished(this);
  }

  onReset(code: number): void {
    this.pool.resetByPeer(this, code);
  }

  onAbort(errorClass: string): void {
    this.pool.aborted(this, errorClass);
  }

  override onStalled(): void {
    this.pool.stalled(this);
  }
}

/** What the pool makes of each request: Exchange, or a subclass. */
export type ExchangeClass = new (pool: ExchangePool, slot: Slot, times: RequestTimes, deadline: number, spec: WireRequestSpec) => Exchange;

/**
 * Tracing (LoadOptions.trace): `Base` that also notes the answer's x-sluice-endpoint (response headers; gRPC's
 * response metadata is its HEADERS). One string comparison per response header, in traced runs only.
 */
export function withEndpoint(Base: ExchangeClass): ExchangeClass {
  return class TracedExchange extends Base {
    override onHeader(name: string, value: string): void {
      if (name === ENDPOINT_HEADER) this.endpoint = value;
      else super.onHeader(name, value);
    }
  };
}

/**
 * attack 'rapid-reset': settled the moment its HEADERS (and body) and RST_STREAM(CANCEL) are written (by
 * rapid-reset.ts's connection); whatever the target answers afterwards arrives on a closed stream and is ignored.
 */
export class AttackExchange extends Exchange {
  override onResetSent(): void {
    this.pool.attackSent(this);
  }
}

function noop(): void {}
