import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { parseBackendArgs, type BackendConfig } from '../backends/config.js';
import { start } from '../backends/h2.js';
import type { RunningBackends } from '../backends/types.js';

function config(argv: string[]): BackendConfig {
  const command = parseBackendArgs(argv);
  assert.equal(command.kind, 'run');
  return command.config;
}

interface Answer {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

function request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = {}, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': '/any/path', ...headers });
    const chunks: Buffer[] = [];
    let responseHeaders: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ headers: responseHeaders, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.end(body);
  });
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function connect(port: number): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

/** A PING round trip: every frame the server sent before its ACK (SETTINGS, WINDOW_UPDATE) has been read. */
function ping(session: http2.ClientHttp2Session): Promise<void> {
  return new Promise((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
}

describe('h2 backend', { timeout: 10_000 }, () => {
  let backends: RunningBackends;
  const sessions: http2.ClientHttp2Session[] = [];

  before(async () => {
    const argv = ['--protocol', 'h2', '--endpoints', '3', '--latency', 'normal:1ms:1ms', '--response-bytes', '3000'];
    backends = await start(config([...argv, '--stream-window', '262144', '--conn-window', '4194304']));
    for (const port of backends.ports) sessions.push(await connect(port));
  });

  after(async () => {
    for (const session of sessions) session.close();
    await backends.close();
  });

  it('serves N endpoints on distinct ports, each naming itself', async () => {
    assert.equal(new Set(backends.ports).size, 3);
    for (const [i, port] of backends.ports.entries()) {
      const answer = await request(sessions[i]!);
      assert.equal(answer.headers[':status'], 200);
      assert.equal(answer.headers['content-type'], 'application/octet-stream');
      assert.equal(answer.headers['content-length'], '3000');
      assert.equal(answer.headers['x-sluice-endpoint'], String(port));
      assert.equal(answer.body.length, 3000);
    }
  });

  it('reads the whole request body and honours x-sluice-response-bytes', async () => {
    const session = sessions[0]!;
    const body = Buffer.alloc(512 * 1024, 1);
    const answers = await Promise.all([
      request(session, { ':method': 'POST', 'x-sluice-response-bytes': '100000' }, body),
      request(session, { ':method': 'POST', 'x-sluice-response-bytes': '0' }, body),
      request(session, { ':method': 'HEAD' }),
    ]);
    assert.deepEqual(
      answers.map((a) => [a.headers[':status'], a.body.length]),
      [
        [200, 100000],
        [200, 0],
        [200, 0],
      ],
    );
    const bad = await request(session, { 'x-sluice-response-bytes': '-3' });
    assert.equal(bad.headers[':status'], 400);
  });

  it('streams N stamped messages of M bytes on x-sluice-stream-messages, stamps plausible and increasing', async () => {
    const before = epochMs();
    const answer = await request(sessions[0]!, { 'x-sluice-stream-messages': '50', 'x-sluice-response-bytes': '1000' });
    const after = epochMs();
    assert.equal(answer.headers[':status'], 200);
    assert.equal(answer.headers['x-sluice-message-bytes'], '1000');
    assert.equal(answer.headers['x-sluice-endpoint'], String(backends.ports[0]));
    assert.equal(answer.body.length, 50 * 1000);
    const stamps = Array.from({ length: 50 }, (_, i) => answer.body.readDoubleLE(i * 1000));
    for (const [i, stamp] of stamps.entries()) {
      assert.ok(stamp >= before && stamp <= after, `message ${i} stamped ${stamp - before} ms after the request`);
      if (i > 0) assert.ok(stamp >= stamps[i - 1]!, `message ${i} stamped before message ${i - 1}`);
      assert.ok(answer.body.subarray(i * 1000 + 8, (i + 1) * 1000).every((b) => b === 0));
    }
    // Without x-sluice-response-bytes, messages have --response-bytes' size (3000 here).
    const sized = await request(sessions[0]!, { 'x-sluice-stream-messages': '2' });
    assert.equal(sized.headers['x-sluice-message-bytes'], '3000');
    assert.equal(sized.body.length, 6000);
    for (const bad of [{ 'x-sluice-stream-messages': '0' }, { 'x-sluice-stream-messages': 'ten' }, { 'x-sluice-stream-messages': '2', 'x-sluice-response-bytes': '7' }]) {
      assert.equal((await request(sessions[0]!, bad)).headers[':status'], 400, JSON.stringify(bad));
    }
  });

  it('writes a stream as flow control allows: messages the client has no window for are written (and stamped) once it reads', async () => {
    // The client's stream window is 65 535 bytes: 64 messages of 16 KiB cannot all go before it reads.
    const stream = sessions[1]!.request({ ':path': '/', 'x-sluice-stream-messages': '64', 'x-sluice-response-bytes': '16384' });
    stream.end();
    stream.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const resumed = epochMs();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.resume();
    await new Promise((resolve) => stream.once('end', resolve));
    const body = Buffer.concat(chunks);
    assert.equal(body.length, 64 * 16384);
    assert.ok(body.readDoubleLE(0) < resumed, 'the first message went at once');
    assert.ok(body.readDoubleLE(63 * 16384) >= resumed, 'the last one waited for the window');
  });

  it('advertises --stream-window and opens the connection window to --conn-window', async () => {
    const session = await connect(backends.ports[2]!);
    try {
      await ping(session);
      assert.equal(session.remoteSettings.initialWindowSize, 262144);
      assert.equal(session.state.remoteWindowSize, 4194304);
    } finally {
      session.close();
    }
  });

  it('close() sends GOAWAY to open sessions and stops listening', async () => {
    const own = await start(config(['--protocol', 'h2', '--endpoints', '2']));
    const session = await connect(own.ports[1]!);
    await request(session);
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    await own.close();
    await goaway;
    session.destroy();
    await assert.rejects(connect(own.ports[0]!), /ECONNREFUSED/);
  });
});
