// The retry layer's replay of a wire request body (src/wire/replay.ts) alone, over scripted connections: each
// attempt gets the whole body, forwarded stream to stream or read as a Readable; the client's stream is credited
// once for every octet, as far as an attempt has passed it on, never twice; past the limit the copy is dropped.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Readable } from 'node:stream';
import { InboundBody, sendBody } from '../src/wire/body.js';
import { bytes, hooks, ScriptedConnection } from './wire-scripted.js';

/** The octets a destination was sent, as one buffer. */
const sentOf = (dest: ScriptedConnection): Buffer => Buffer.concat(dest.sent);

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('wire body replay', () => {
  test('a second attempt is sent the whole body, the copy then live chunks; each octet is credited once', () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    body.deliver(bytes(100, 1), false); // before the first attempt
    const replay = body.replay(10_000)!;
    assert.ok(replay, 'an unread InboundBody replays itself');
    const first = new ScriptedConnection();
    const firstSender = sendBody(first.conn, 3, replay.attempt(), hooks());
    body.deliver(bytes(50, 2), false);
    assert.deepEqual(first.sent.map((b) => b.length), [100, 50]);
    assert.equal(client.credited, 150);
    // The attempt fails (its upstream stream was refused): its body is let go; a chunk arrives before the next.
    firstSender.stop();
    body.deliver(bytes(30, 3), false);
    assert.equal(client.credited, 150, 'between attempts nothing is passed on, so nothing is credited');
    assert.ok(replay.replayable);
    const second = new ScriptedConnection();
    const h = hooks();
    sendBody(second.conn, 5, replay.attempt(), h);
    assert.deepEqual(second.sent.map((b) => [b.length, b[0]]), [[100, 1], [50, 2], [30, 3]]);
    assert.equal(client.credited, 180, 'the replayed 150 octets were credited once already');
    body.deliver(bytes(20, 4), true);
    assert.equal(sentOf(second).length, 200);
    assert.equal(client.credited, 200);
    assert.equal(h.ended, 1);
    assert.equal(first.sent.length, 2, 'the failed attempt gets nothing more');
  });

  test('what an attempt held back for window is uncredited until the next attempt passes it on', () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    const replay = body.replay(10_000)!;
    const first = new ScriptedConnection();
    first.blocked = true;
    const sender = sendBody(first.conn, 3, replay.attempt(), hooks());
    body.deliver(bytes(1000, 1), false); // passed on (credited), queued at the destination
    body.deliver(bytes(500, 2), true); // held behind it: uncredited
    assert.equal(client.credited, 1000);
    sender.stop();
    const second = new ScriptedConnection();
    const h = hooks();
    sendBody(second.conn, 5, replay.attempt(), h);
    assert.deepEqual(second.sent.map((b) => b.length), [1000, 500]);
    assert.equal(client.credited, 1500);
    assert.equal(h.ended, 1, 'the end was replayed too');
  });

  test('an attempt read as a Readable gets the whole body; credit follows what its reader took', async () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    const replay = body.replay(10_000)!;
    const first = new ScriptedConnection();
    const sender = sendBody(first.conn, 3, replay.attempt(), hooks());
    body.deliver(bytes(64, 1), false);
    sender.stop();
    const second = replay.attempt();
    const read = readAll(second);
    body.deliver(bytes(36, 2), true);
    const whole = await read;
    assert.equal(whole.length, 100);
    assert.deepEqual([whole[0], whole[99]], [1, 2]);
    assert.equal(client.credited, 100);
  });

  test('past the limit the copy is dropped: no further attempt, and the current one goes on live with full credit', () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    const replay = body.replay(100)!;
    const dest = new ScriptedConnection();
    const h = hooks();
    sendBody(dest.conn, 3, replay.attempt(), h);
    body.deliver(bytes(80, 1), false);
    assert.ok(replay.replayable);
    body.deliver(bytes(80, 2), false);
    assert.equal(replay.replayable, false, '160 octets > 100: the copy is gone');
    assert.throws(() => replay.attempt(), /no longer be replayed/);
    body.deliver(bytes(40, 3), true);
    assert.equal(sentOf(dest).length, 200);
    assert.equal(client.credited, 200);
    assert.equal(h.ended, 1);
  });

  test('released with no attempt running: what was received and what comes later is credited at once', () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    const replay = body.replay(10_000)!;
    const sender = sendBody(new ScriptedConnection().conn, 3, replay.attempt(), hooks());
    body.deliver(bytes(10, 1), false);
    sender.stop();
    body.deliver(bytes(20, 2), false);
    assert.equal(client.credited, 10);
    replay.release();
    assert.equal(client.credited, 30);
    body.deliver(bytes(5, 3), true);
    assert.equal(client.credited, 35, 'nobody will read it: the window is not held');
  });

  test('a body already read as a stream has no replay of its own (the layer copies it)', async () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    body.deliver(bytes(10, 1), true);
    assert.equal((await readAll(body)).length, 10);
    assert.equal(body.replay(10_000), undefined);
  });

  test('credit never exceeds what was received, also when a let-go body is passed on later', () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    const dest = new ScriptedConnection();
    dest.blocked = true;
    const sender = sendBody(dest.conn, 3, body, hooks());
    body.deliver(bytes(100, 1), false);
    body.deliver(bytes(100, 2), false); // held, uncredited
    body.destroy(); // let go: everything received is credited
    assert.equal(client.credited, 200);
    dest.drain();
    sender.onWritable();
    assert.equal(client.credited, 200, 'no octet is credited twice');
  });

  test('the body let go before its end: the attempt is told (its stream reset), and no attempt follows', () => {
    const client = new ScriptedConnection();
    const body = new InboundBody(client.conn, 1);
    const replay = body.replay(10_000)!;
    const h = hooks();
    sendBody(new ScriptedConnection().conn, 3, replay.attempt(), h);
    body.deliver(bytes(10, 1), false);
    body.reset();
    assert.equal(h.errors.length, 1);
    assert.equal(replay.replayable, false);
    assert.throws(() => replay.attempt());
  });
});
