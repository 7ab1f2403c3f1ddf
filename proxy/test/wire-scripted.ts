// Test support (no tests here): the parts of H2Connection the wire bodies use, scripted, for body.ts and
// replay.ts tested alone (wire-body.test.ts, wire-replay.test.ts).
import type { H2Connection } from '../../h2/connection.js';

/** The parts of H2Connection the bodies use: consume (credit) on the source, sendData / sendQueued on the
 *  destination, whose queue the test fills and drains by hand. */
export class ScriptedConnection {
  credited = 0;
  sent: Buffer[] = [];
  queued = 0;
  /** sendData queues what it is given instead of sending it (the peer's window is shut). */
  blocked = false;
  consume(_id: number, n: number): void {
    this.credited += n;
  }
  sendData(_id: number, data: Buffer): boolean {
    if (this.blocked) this.queued += data.length;
    else this.sent.push(data);
    return true;
  }
  sendQueued(): number {
    return this.queued;
  }
  /** The window opened: the queue leaves. */
  drain(): void {
    this.blocked = false;
    this.queued = 0;
  }
  get conn(): H2Connection {
    return this as unknown as H2Connection;
  }
}

export function hooks(): { ended: number; errors: Error[]; onEnd(): void; onError(err: Error): void } {
  return {
    ended: 0,
    errors: [],
    onEnd() {
      this.ended++;
    },
    onError(err) {
      this.errors.push(err);
    },
  };
}

export const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);
