// A request body that can be sent more than once, in the manner of linkerd's ReplayBody: the first attempt
// streams the client's body as it arrives (no waiting for the end, so streaming and bidi gRPC are not held
// back) while a copy of up to `limit` bytes is kept. A later attempt replays that copy and then goes on with
// the rest of the body live. Once the body has passed `limit`, the copy is dropped and no attempt can follow.
import { Readable } from 'node:stream';
import type { BodyReplay } from '../service.js';

export class ReplayBody implements BodyReplay {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** The copy was dropped: the body passed the limit, or the request no longer needs another attempt. */
  private dropped = false;
  private ended = false;
  private error: Error | undefined;
  private started = false;
  /** The attempt being fed live chunks; only one at a time. */
  private current: Readable | undefined;

  constructor(
    private readonly source: Readable,
    private readonly limit: number,
  ) {}

  /** True while another attempt can still be sent the whole body. */
  get replayable(): boolean {
    return !this.dropped && this.error === undefined;
  }

  /** The body for the next attempt; the previous attempt's body gets nothing more. */
  attempt(): Readable {
    if (this.started && !this.replayable) throw new Error('the request body can no longer be replayed');
    if (this.current && !this.current.destroyed) this.current.destroy();
    const body = new Readable({ read: () => this.source.resume() });
    for (const chunk of this.chunks) body.push(chunk); // at most `limit` bytes, so not held back
    if (this.ended) body.push(null);
    else this.current = body;
    if (!this.started) this.start();
    return body;
  }

  /** No more attempts will be made (the response arrived): stop keeping a copy. */
  release(): void {
    this.dropped = true;
    this.chunks = [];
  }

  private start(): void {
    this.started = true;
    this.source.on('data', (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!this.dropped) {
        this.bytes += buf.length;
        if (this.bytes > this.limit) this.release();
        else this.chunks.push(buf);
      }
      const body = this.current;
      // Between attempts (backoff) nobody reads: pause rather than grow the copy past what was asked for.
      if (!body || body.destroyed || !body.push(buf)) this.source.pause();
    });
    this.source.once('end', () => {
      this.ended = true;
      if (this.current && !this.current.destroyed) this.current.push(null);
    });
    this.source.once('error', (err) => {
      this.error = err;
      this.current?.destroy(err);
    });
  }
}
