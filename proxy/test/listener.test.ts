// One port for both protocols: the first bytes decide, even when the h2c preface arrives in pieces.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { describe, test } from 'node:test';
import { detect, H2_PREFACE, Listener } from '../src/listener.js';
import { closeSession, eventually } from './support.js';

const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

describe('listener', { timeout: 10_000 }, () => {
  test('detect: h2 only on the whole preface, h1 at the first differing byte, undecided in between', () => {
    assert.equal(detect(H2_PREFACE), 'h2');
    assert.equal(detect(Buffer.concat([H2_PREFACE, EMPTY_SETTINGS])), 'h2');
    assert.equal(detect(Buffer.from('PRI * HTTP/2')), 'undecided');
    assert.equal(detect(Buffer.from('P')), 'undecided');
    assert.equal(detect(Buffer.from('POST / HTTP/1.1\r\n')), 'h1');
    assert.equal(detect(Buffer.from('G')), 'h1');
    assert.equal(detect(Buffer.from('PRI * HTTP/1.1\r\n')), 'h1');
  });

  test('hands each connection to the right server, with a split preface and a split request line', async (t) => {
    const h1 = http.createServer((_req, res) => res.end('from h1'));
    const h2 = http2.createServer();
    h2.on('stream', (stream) => stream.respond({ ':status': 200, 'x-from': 'h2' }, { endStream: true }));
    h2.on('session', (s) => s.on('error', () => {}));
    const listener = new Listener({ h1, h2 });
    const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => {
      listener.close();
      listener.destroyAll();
    });

    // Preface in three pieces: the server must wait, then answer with its SETTINGS frame (type 0x4).
    const raw = net.connect(port, '127.0.0.1');
    t.after(() => raw.destroy());
    await new Promise((r) => raw.once('connect', r));
    const reply = new Promise<Buffer>((r) => raw.once('data', r));
    raw.write(H2_PREFACE.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 30));
    raw.write(H2_PREFACE.subarray(3, 20));
    await new Promise((r) => setTimeout(r, 30));
    raw.write(Buffer.concat([H2_PREFACE.subarray(20), EMPTY_SETTINGS]));
    const frame = await reply;
    assert.equal(frame[3], 0x4, 'an HTTP/2 SETTINGS frame');

    // A request line in two pieces, the first of which ("P") also starts the preface.
    const h1Raw = net.connect(port, '127.0.0.1');
    t.after(() => h1Raw.destroy());
    const h1Reply = new Promise<string>((r) => h1Raw.once('data', (d: Buffer) => r(d.toString())));
    h1Raw.write('P');
    await new Promise((r) => setTimeout(r, 30));
    h1Raw.write('OST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    const text = await h1Reply;
    assert.match(text, /^HTTP\/1\.1 200/);
    assert.match(text, /from h1$/);

    // And a real h2c client.
    const client = http2.connect(`http://127.0.0.1:${port}`);
    t.after(() => closeSession(client));
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const s = client.request({ ':path': '/' });
      s.on('response', resolve);
      s.on('error', reject);
      s.resume();
    });
    assert.equal(headers['x-from'], 'h2');
  });

  test('a connection that sends nothing is closed after the detect timeout', async (t) => {
    const listener = new Listener({ h1: http.createServer(), h2: http2.createServer(), detectTimeoutMs: 50 });
    const { port } = await listener.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => listener.close());
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('close', r));
    assert.ok(await eventually(() => listener.sockets.size === 0), 'the server side let go of it too');
  });
});
