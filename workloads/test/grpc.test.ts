import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { parseBackendArgs, type BackendConfig } from '../backends/config.js';
import { start } from '../backends/grpc.js';
import type { RunningBackends } from '../backends/types.js';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../proto/path.js';

function config(argv: string[]): BackendConfig {
  const command = parseBackendArgs(argv);
  assert.equal(command.kind, 'run');
  return command.config;
}

interface EchoReply {
  payload: Buffer;
}

type EchoClient = grpc.Client & {
  Unary(
    request: { payload?: Buffer; response_bytes?: number },
    callback: (err: grpc.ServiceError | null, reply?: EchoReply) => void,
  ): grpc.ClientUnaryCall;
  ServerStream(request: { payload?: Buffer; response_bytes?: number; messages?: number }): grpc.ClientReadableStream<EchoReply>;
};

const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
const Echo = grpc.makeGenericClientConstructor(definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition, 'Echo');
// Replies here go up to 5 MiB; the client's default limit is 4 MiB.
const CLIENT_OPTIONS = { 'grpc.max_receive_message_length': -1 };

interface Answer {
  reply: EchoReply;
  endpoint: string;
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Every reply of a ServerStream call, or its error. */
function serverStream(client: EchoClient, request: { response_bytes?: number; messages?: number }): Promise<EchoReply[]> {
  return new Promise((resolve, reject) => {
    const replies: EchoReply[] = [];
    const call = client.ServerStream(request);
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', reject);
    call.on('end', () => resolve(replies));
  });
}

/** The EchoReply payloads of a gRPC response body: length-prefixed messages, each {bytes payload = 1}. */
function replyPayloads(body: Buffer): Buffer[] {
  const payloads: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const length = body.readUInt32BE(at + 1);
    const message = body.subarray(at + 5, at + 5 + length);
    assert.equal(message[0], 0x0a, 'EchoReply.payload');
    let size = 0;
    let i = 1;
    for (let shift = 0; ; shift += 7) {
      const byte = message[i++]!;
      size += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    payloads.push(message.subarray(i, i + size));
    at += 5 + length;
  }
  return payloads;
}

function unary(client: EchoClient, request: { payload?: Buffer; response_bytes?: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let endpoint = '';
    const call = client.Unary(request, (err, reply) => (err || !reply ? reject(err) : resolve({ reply, endpoint })));
    call.on('metadata', (metadata: grpc.Metadata) => (endpoint = String(metadata.get('x-sluice-endpoint')[0])));
  });
}

describe('gRPC backend', { timeout: 10_000 }, () => {
  let backends: RunningBackends;
  const clients: EchoClient[] = [];

  before(async () => {
    const argv = ['--protocol', 'grpc', '--endpoints', '3', '--latency', 'bimodal:0ms:2ms:0.5', '--response-bytes', '4096'];
    backends = await start(config([...argv, '--stream-window', '131072', '--conn-window', '2097152']));
    for (const port of backends.ports) {
      clients.push(new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS) as unknown as EchoClient);
    }
  });

  after(async () => {
    for (const client of clients) client.close();
    await backends.close();
  });

  it('finds echo.proto from the compiled file', () => {
    assert.ok(existsSync(echoProtoPath()), echoProtoPath());
  });

  it('serves N endpoints on distinct ports, each naming itself', async () => {
    assert.equal(new Set(backends.ports).size, 3);
    for (const [i, port] of backends.ports.entries()) {
      const answer = await unary(clients[i]!, {});
      assert.equal(answer.reply.payload.length, 4096);
      assert.equal(answer.endpoint, String(port));
    }
  });

  it('reads the request payload and honours response_bytes', async () => {
    const payload = Buffer.alloc(256 * 1024, 1);
    const answers = await Promise.all([
      unary(clients[1]!, { payload, response_bytes: 10 }),
      unary(clients[1]!, { payload, response_bytes: 5 * 1024 * 1024 }),
      unary(clients[1]!, { response_bytes: 0 }),
    ]);
    assert.deepEqual(
      answers.map((a) => a.reply.payload.length),
      [10, 5 * 1024 * 1024, 4096],
    );
    await assert.rejects(unary(clients[2]!, { response_bytes: 2 ** 31 }), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
  });

  it('ServerStream sends `messages` stamped replies of response_bytes, stamps plausible and increasing', async () => {
    const before = epochMs();
    const replies = await serverStream(clients[0]!, { response_bytes: 1000, messages: 50 });
    const after = epochMs();
    assert.equal(replies.length, 50);
    const stamps = replies.map((r) => r.payload.readDoubleLE(0));
    for (const [i, reply] of replies.entries()) {
      assert.equal(reply.payload.length, 1000);
      assert.ok(stamps[i]! >= before && stamps[i]! <= after, `reply ${i} stamped ${stamps[i]! - before} ms after the call`);
      if (i > 0) assert.ok(stamps[i]! >= stamps[i - 1]!, `reply ${i} stamped before reply ${i - 1}`);
    }
    // messages 0 means 10, response_bytes 0 the backend's --response-bytes.
    assert.deepEqual(
      (await serverStream(clients[0]!, {})).map((r) => r.payload.length),
      Array.from({ length: 10 }, () => 4096),
    );
    await assert.rejects(serverStream(clients[0]!, { response_bytes: 7 }), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
    await assert.rejects(serverStream(clients[0]!, { messages: 2_000_000 }), (err: grpc.ServiceError) => err.code === grpc.status.INVALID_ARGUMENT);
  });

  it('ServerStream writes as flow control allows: replies the client has no window for are stamped once it reads', async () => {
    // A plain HTTP/2 client with a 65 535-byte stream window that does not read for 300 ms.
    const session = http2.connect(`http://127.0.0.1:${backends.ports[1]}`);
    try {
      const method = (definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition)['ServerStream']!;
      const message = method.requestSerialize({ response_bytes: 16384, messages: 64 });
      const framed = Buffer.alloc(5 + message.length);
      framed.writeUInt32BE(message.length, 1);
      message.copy(framed, 5);
      const stream = session.request({ ':method': 'POST', ':path': `/${ECHO_SERVICE}/ServerStream`, 'content-type': 'application/grpc', te: 'trailers' });
      stream.end(framed);
      stream.pause();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const resumed = epochMs();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.resume();
      await new Promise((resolve) => stream.once('end', resolve));
      const payloads = replyPayloads(Buffer.concat(chunks));
      assert.equal(payloads.length, 64);
      assert.ok(payloads[0]!.readDoubleLE(0) < resumed, 'the first reply went at once');
      assert.ok(payloads[63]!.readDoubleLE(0) >= resumed, 'the last one waited for the window');
    } finally {
      session.destroy();
    }
  });

  it('advertises --stream-window and opens the connection window to --conn-window', async () => {
    const session = http2.connect(`http://127.0.0.1:${backends.ports[0]}`);
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('error', reject);
        // A PING round trip: the server's SETTINGS and WINDOW_UPDATE came before its ACK.
        session.once('connect', () => session.ping((err) => (err ? reject(err) : resolve())));
      });
      assert.equal(session.remoteSettings.initialWindowSize, 131072);
      assert.equal(session.state.remoteWindowSize, 2097152);
    } finally {
      session.destroy();
    }
  });

  it('close() stops every port', async () => {
    const own = await start(config(['--protocol', 'grpc', '--endpoints', '2']));
    const client = new Echo(`127.0.0.1:${own.ports[1]}`, grpc.credentials.createInsecure(), CLIENT_OPTIONS) as unknown as EchoClient;
    await unary(client, {});
    await own.close();
    client.close();
    for (const port of own.ports) {
      const probe = http2.connect(`http://127.0.0.1:${port}`);
      await assert.rejects(
        new Promise((resolve, reject) => {
          probe.once('connect', resolve);
          probe.once('error', reject);
        }),
        /ECONNREFUSED/,
      );
      probe.destroy();
    }
  });
});
