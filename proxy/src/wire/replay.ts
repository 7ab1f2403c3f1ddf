// The retry layer's replay of a wire request body (as linkerd's ReplayBody), kept inside the wire path so each
// attempt is still forwarded stream to stream (body.ts's DirectSender) rather than copied through a Readable
// (retry/replay-body.ts, which the node engine's bodies use). One InboundReplay is the InboundBody's only sink:
// it keeps a copy of up to `limit` octets and hands every chunk on to the current attempt, a ReplayView. A later
// attempt replays the copy from the first octet, then goes on live. Past `limit` the copy is dropped and no
// attempt can follow.
//
// Credit: the peer is credited up to the furthest octet any attempt has passed on (`advance`), never twice: an
// octet replayed to a second attempt was credited when the first passed it on (or is when the second does). What
// an attempt held back uncredited when it failed is in the copy, and is credited once the next one passes it on.
import { Readable } from 'node:stream';
import type { BodyReplay } from '../service.js';
import type { AttachableBody, BodySink } from './sink.js';

/** What the replay needs of the body it copies (an InboundBody). */
export type ReplaySource = AttachableBody;

export class InboundReplay implements BodyReplay, BodySink {
  /** Every octet received so far, while within the limit; undefined once dropped. */
  private kept: Buffer[] | undefined = [];
  private keptBytes = 0;
  private received = 0;
  private credited = 0;
  private ended = false;
  private aborted = false;
  private started = false;
  private current: ReplayView | undefined;

  constructor(
    private readonly source: ReplaySource,
    private readonly limit: number,
  ) {}

  get replayable(): boolean {
    return this.kept !== undefined;
  }

  attempt(): Readable {
    if (this.started && !this.replayable) throw new Error('the request body can no longer be replayed');
    const previous = this.current;
    // The copy up to now, then live chunks: taken before attaching, which hands over what waits in the source.
    if (this.aborted) throw new Error('the request body was let go before its end');
    const view = new ReplayView(this, this.kept !== undefined ? this.kept.slice() : [], this.ended);
    this.current = view;
    if (previous !== undefined && !previous.destroyed) previous.destroy();
    if (!this.started) {
      this.started = true;
      // InboundBody.replay() only makes a replay while a sink can attach.
      if (!this.source.attach(this)) throw new Error('the request body is already read as a stream');
    }
    return view;
  }

  release(): void {
    this.kept = undefined;
    this.keptBytes = 0;
    if (this.current === undefined) this.advance(this.received);
  }

  /** From the source: a chunk, copied while within the limit, and handed to the current attempt. */
  data(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.kept !== undefined) {
      this.keptBytes += chunk.length;
      if (this.keptBytes > this.limit) {
        this.kept = undefined;
        this.keptBytes = 0;
      } else this.kept.push(chunk);
    }
    if (this.current !== undefined) this.current.live(chunk);
    // Nobody will pass it on (no attempt now, no copy for a later one): its credit goes back now.
    else if (this.kept === undefined) this.advance(this.received);
  }

  end(): void {
    this.ended = true;
    this.current?.liveEnd();
  }

  /** The source was let go before its end: no attempt can have the whole body any more. */
  abort(): void {
    this.aborted = true;
    this.kept = undefined;
    this.current?.liveAbort();
  }

  /** An attempt has passed on the body up to `offset`: credit what no attempt had passed on before. */
  advance(offset: number): void {
    if (offset <= this.credited) return;
    this.source.forwarded(offset - this.credited);
    this.credited = offset;
  }

  /** An attempt's body was destroyed (the attempt failed or was cancelled). */
  gone(view: ReplayView): void {
    if (this.current !== view) return;
    this.current = undefined;
    if (this.kept === undefined) this.advance(this.received);
  }
}

/** One attempt's body: the copy so far, then live chunks; forwarded to a sink, or read as a Readable. */
export class ReplayView extends Readable implements AttachableBody {
  /** Octets of the body this attempt has passed on (sink) or its reader has taken (Readable). */
  private offset = 0;
  /** Chunks for this attempt nobody has taken yet: the copy, then live ones. */
  private waiting: Buffer[];
  private ended: boolean;
  private aborted = false;
  private sink: BodySink | undefined;
  private pushing = false;
  private engaged = false;
  /** Octets pushed into Readable's buffer. */
  private pushed = 0;

  constructor(
    private readonly replay: InboundReplay,
    copy: Buffer[],
    ended: boolean,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.waiting = copy;
    this.ended = ended;
  }

  live(chunk: Buffer): void {
    if (this.sink !== undefined) this.sink.data(chunk);
    else if (this.pushing) {
      this.pushed += chunk.length;
      this.push(chunk);
    } else this.waiting.push(chunk);
  }

  liveEnd(): void {
    this.ended = true;
    if (this.sink !== undefined) this.sink.end();
    else if (this.pushing) this.push(null);
  }

  liveAbort(): void {
    this.aborted = true;
    if (this.sink !== undefined) this.sink.abort();
    else if (this.pushing) this.destroy(new Error('the body was let go before its end'));
  }

  attach(sink: BodySink): boolean {
    if (this.engaged || this.destroyed || this.sink !== undefined) return false;
    this.sink = sink;
    const waiting = this.waiting;
    this.waiting = [];
    for (let i = 0; i < waiting.length && this.sink === sink; i++) sink.data(waiting[i]!);
    if (this.ended && this.sink === sink) sink.end();
    else if (this.aborted && this.sink === sink) sink.abort();
    return true;
  }

  detach(): void {
    this.sink = undefined;
  }

  forwarded(n: number): void {
    this.offset += n;
    this.replay.advance(this.offset);
  }

  override read(size?: number): Buffer | null {
    const chunk = super.read(size) as Buffer | null;
    const taken = this.pushed - this.readableLength;
    if (taken > this.offset) {
      this.offset = taken;
      this.replay.advance(taken);
    }
    return chunk;
  }

  override _read(): void {
    this.engaged = true;
    if (this.sink !== undefined || this.pushing) return;
    this.pushing = true;
    const waiting = this.waiting;
    this.waiting = [];
    for (const chunk of waiting) {
      this.pushed += chunk.length;
      this.push(chunk);
    }
    if (this.ended) this.push(null);
    else if (this.aborted) this.destroy(new Error('the body was let go before its end'));
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.sink = undefined;
    this.waiting = [];
    this.replay.gone(this);
    cb(err);
  }
}
