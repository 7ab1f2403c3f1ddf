// The wire engine's bodies (src/wire/body.ts) alone, over a scripted connection: an InboundBody nobody read as a
// Readable is forwarded directly by sendBody, with the same flow control as the Readable path (credit for what
// was handed on, nothing for what waits behind a full stream), and a body already read as a stream falls back to
// the Readable path.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { InboundBody, sendBody } from '../src/wire/body.js';
import { bytes, hooks, ScriptedConnection } from './wire-scripted.js';

describe('wire bodies', () => {
  test('chunks that arrived before the sender are forwarded in order, then the end, each credited once', () => {
    const source = new ScriptedConnection();
    const dest = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    body.deliver(bytes(100, 1), false);
    body.deliver(bytes(50, 2), true);
    assert.equal(source.credited, 0, 'nothing is credited before anyone takes it');
    const h = hooks();
    sendBody(dest.conn, 3, body, h);
    assert.deepEqual(dest.sent.map((b) => [b.length, b[0]]), [[100, 1], [50, 2]]);
    assert.equal(source.credited, 150);
    assert.equal(h.ended, 1);
    body.deliver(bytes(10, 3), true); // nothing can follow an end; a stray delivery is not forwarded
    assert.equal(dest.sent.length, 2);
    assert.equal(h.ended, 1);
  });

  test('while the destination stream waits for window, later chunks wait uncredited; the end waits for them', () => {
    const source = new ScriptedConnection();
    const dest = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    const h = hooks();
    dest.blocked = true;
    const sender = sendBody(dest.conn, 3, body, h);
    body.deliver(bytes(1000, 1), false); // handed on (credited), but queued at the destination
    assert.equal(source.credited, 1000);
    body.deliver(bytes(500, 2), false);
    body.deliver(bytes(0, 0), true);
    assert.equal(source.credited, 1000, 'held chunks are not credited: the peer stays bound by its window');
    assert.equal(h.ended, 0, 'no end while DATA waits');
    dest.drain();
    sender.onWritable();
    assert.deepEqual(dest.sent.map((b) => b.length), [500]);
    assert.equal(source.credited, 1500);
    assert.equal(h.ended, 1);
  });

  test('a stopped sender forwards nothing more; destroying the body credits what it still held', () => {
    const source = new ScriptedConnection();
    const dest = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    const h = hooks();
    const sender = sendBody(dest.conn, 3, body, h);
    body.deliver(bytes(10, 1), false);
    sender.stop(false);
    body.deliver(bytes(20, 2), false);
    assert.deepEqual(dest.sent.map((b) => b.length), [10]);
    assert.equal(source.credited, 10);
    body.destroy();
    assert.equal(source.credited, 30, 'the unread 20 octets go back to the connection window');
    assert.equal(h.ended, 0);
  });

  test('limitBytes: past the bound nothing more is passed on, the dropped octets are credited, onExceeded runs once, later', async () => {
    const source = new ScriptedConnection();
    const dest = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    let exceeded = 0;
    body.limitBytes(150, () => exceeded++);
    const h = hooks();
    sendBody(dest.conn, 3, body, h);
    body.deliver(bytes(100, 1), false);
    body.deliver(bytes(100, 2), false); // 200 > 150: dropped
    assert.equal(exceeded, 0, 'not called inside the connection read');
    await Promise.resolve();
    assert.equal(exceeded, 1);
    body.deliver(bytes(10, 3), true);
    await Promise.resolve();
    assert.equal(exceeded, 1, 'once');
    assert.deepEqual(dest.sent.map((b) => b.length), [100]);
    assert.equal(source.credited, 210, 'forwarded and dropped octets alike go back to the peer');
  });

  test('limitBytes set after octets arrived counts them too', async () => {
    const source = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    body.deliver(bytes(300, 1), false);
    let exceeded = 0;
    body.limitBytes(200, () => exceeded++);
    await Promise.resolve();
    assert.equal(exceeded, 1);
    assert.equal(source.credited, 300, 'the pending octets are dropped and credited');
  });

  test('a body already read as a Readable is sent through the Readable path, with the same credit', async () => {
    const source = new ScriptedConnection();
    const dest = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    body.deliver(bytes(64, 7), false);
    const seen: number[] = [];
    body.on('data', (c: Buffer) => seen.push(c.length)); // read as a stream (by another reader, say)
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [64]);
    assert.equal(source.credited, 64);
    const h = hooks();
    const done = new Promise<void>((resolve) => {
      h.onEnd = function () {
        this.ended++;
        resolve();
      };
    });
    sendBody(dest.conn, 3, body, h);
    body.deliver(bytes(32, 8), true);
    await done;
    assert.deepEqual(dest.sent.map((b) => [b.length, b[0]]), [[32, 8]], 'sent from the Readable, not attached');
    assert.deepEqual(seen, [64, 32]);
    assert.equal(source.credited, 96);
  });

  test('read as a Readable from the start: pending chunks, then live ones, then end; all credited', async () => {
    const source = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    body.deliver(bytes(5, 1), false);
    const got: Buffer[] = [];
    body.on('data', (c: Buffer) => got.push(c));
    const ended = new Promise((resolve) => body.once('end', resolve));
    await new Promise((resolve) => setImmediate(resolve));
    body.deliver(bytes(6, 2), false);
    body.deliver(bytes(7, 3), true);
    await ended;
    assert.deepEqual(got.map((b) => b.length), [5, 6, 7]);
    assert.equal(source.credited, 18);
  });

  test('a body let go before its end tells its sender, which reports an error (the stream is reset, not left open)', () => {
    const source = new ScriptedConnection();
    const dest = new ScriptedConnection();
    const body = new InboundBody(source.conn, 1);
    const h = hooks();
    sendBody(dest.conn, 3, body, h);
    body.deliver(bytes(10, 1), false);
    body.reset();
    assert.equal(h.errors.length, 1);
    assert.equal(h.ended, 0);
    const whole = new InboundBody(source.conn, 5);
    const h2 = hooks();
    sendBody(dest.conn, 7, whole, h2);
    whole.deliver(bytes(10, 1), true);
    whole.destroy(); // after its end: nothing to report
    assert.deepEqual([h2.errors.length, h2.ended], [0, 1]);
  });

  test('a Readable destroyed before its end makes the Readable path report an error too', async () => {
    const dest = new ScriptedConnection();
    const body = new Readable({ read() {} });
    const h = hooks();
    sendBody(dest.conn, 3, body, h);
    body.push(bytes(10, 1));
    body.destroy();
    await new Promise((r) => setImmediate(r));
    assert.equal(h.errors.length, 1);
    assert.equal(h.ended, 0);
  });
});
