// Interop through the proxy, on whichever engine the suite runs (SLUICE_PROXY_ENGINE; `npm test` runs proxy/test/
// once per engine): curl (--http2-prior-knowledge), nghttp, h2load, a node:http2 client, and @grpc/grpc-js client
// and server (unary, server streaming, client streaming), with 1 MiB and 16 MiB bodies and trailers. The backend
// is node:http2 (h2c) or grpc-js; each answer carries a digest of what the backend saw, so a byte lost or changed
// anywhere on the way fails the test. Debian's curl, nghttp2-client (nghttp, h2load) are required: missing, the
// test fails naming the package (.ci/run installs them).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { findBinary, missingBinaryMessage } from '../../common/binaries.js';
import { h2Backend, h2Request, proxy } from './support.js';

const MiB = 1 << 20;

function sha(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** The program's path, or a failure naming its package. */
function tool(bin: string, pkg: string): string {
  return findBinary(bin) ?? assert.fail(missingBinaryMessage(bin, pkg));
}

function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * MiB, timeout: 60_000, encoding: 'buffer' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${err.message}\n${stderr.toString()}`));
      else resolve({ stdout: stdout.toString('latin1'), stderr: stderr.toString() });
    });
  });
}

/** A deterministic body of n bytes (not all one byte, so an offset error shows). */
function bodyOf(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(i, i);
  for (let i = n - (n % 4); i < n; i++) b[i] = i & 0xff;
  return b;
}

/** GET /bytes/N: N bytes, then trailers with their digest. POST /echo: the body back, trailers with its digest. */
function onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const path = String(headers[':path']);
  const bytes = /^\/bytes\/(\d+)$/.exec(path);
  if (bytes) {
    const body = bodyOf(Number(bytes[1]));
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'x-sha256': sha(body), 'x-bytes': String(body.length) }));
    stream.end(body);
    return;
  }
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('end', () => {
    const body = Buffer.concat(chunks);
    stream.respond({ ':status': 200, 'x-request-sha256': sha(body) }, { waitForTrailers: true });
    stream.once('wantTrailers', () => stream.sendTrailers({ 'x-sha256': sha(body) }));
    stream.end(body);
  });
}

test('interop through the proxy: curl, nghttp, h2load and node:http2 with 1 MiB and 16 MiB bodies and trailers', { timeout: 180_000 }, async (t) => {
  const backend = await h2Backend(onStream);
  const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`]);
  const base = `http://127.0.0.1:${p.listen.port}`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-interop-'));
  try {
    await t.test('curl --http2-prior-knowledge: a 16 MiB download and a 1 MiB upload echoed', async () => {
      const curl = tool('curl', 'curl');
      const out = join(dir, 'curl.out');
      const got = await run(curl, ['-sS', '--http2-prior-knowledge', '-o', out, '-w', '%{http_version} %{http_code} %{size_download}', `${base}/bytes/${16 * MiB}`]);
      assert.equal(got.stdout, `2 200 ${16 * MiB}`);
      const upload = join(dir, 'up.bin');
      writeFileSync(upload, bodyOf(MiB));
      const echoed = await run(curl, ['-sS', '--http2-prior-knowledge', '-D', '-', '-o', out, '--data-binary', `@${upload}`, `${base}/echo`]);
      assert.match(echoed.stdout, new RegExp(`x-request-sha256: ${sha(bodyOf(MiB))}`));
    });

    await t.test('nghttp: a 16 MiB download with its trailers, and a 1 MiB upload', async () => {
      const nghttp = tool('nghttp', 'nghttp2-client');
      // -v prints every frame and header field received, trailers included; -n discards the body.
      const got = await run(nghttp, ['-nv', `${base}/bytes/${16 * MiB}`]);
      assert.match(got.stdout, new RegExp(`x-sha256: ${sha(bodyOf(16 * MiB))}`));
      assert.match(got.stdout, new RegExp(`x-bytes: ${16 * MiB}`));
      assert.doesNotMatch(got.stdout, /recv RST_STREAM|recv GOAWAY.*error_code=(?!NO_ERROR)/);
      const upload = join(dir, 'up.bin');
      writeFileSync(upload, bodyOf(MiB));
      const echoed = await run(nghttp, ['-nv', '-d', upload, `${base}/echo`]);
      assert.match(echoed.stdout, new RegExp(`x-sha256: ${sha(bodyOf(MiB))}`));
    });

    await t.test('h2load: 2000 requests on 4 connections, 16 streams each, all 2xx', async () => {
      const h2load = tool('h2load', 'nghttp2-client');
      const got = await run(h2load, ['-n', '2000', '-c', '4', '-m', '16', `${base}/bytes/1024`]);
      assert.match(got.stdout, /requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored/);
      assert.match(got.stdout, /status codes: 2000 2xx/);
    });

    await t.test('node:http2: 1 MiB and 16 MiB both ways, trailers, several at once on one session', async () => {
      // node:http2's own client resets streams ENHANCE_YOUR_CALM past its maxSessionMemory (10 MB by default),
      // which 16 MiB arriving while 16 MiB leaves passes: room for both, so what is measured is the proxy.
      const session = http2.connect(base, { maxSessionMemory: 128 });
      await new Promise((resolve, reject) => session.once('remoteSettings', resolve).once('error', reject));
      try {
        const sizes = [MiB, 16 * MiB];
        const downloads = await Promise.all(sizes.map((n) => h2Request(session, { ':path': `/bytes/${n}` })));
        for (const [i, r] of downloads.entries()) {
          assert.equal(r.status, 200);
          assert.equal(r.body.length, sizes[i]);
          assert.equal(r.trailers?.['x-sha256'], sha(bodyOf(sizes[i]!)));
        }
        const uploads = await Promise.all(sizes.map((n) => h2Request(session, { ':method': 'POST', ':path': '/echo' }, bodyOf(n))));
        for (const [i, r] of uploads.entries()) {
          assert.equal(r.rstCode, 0);
          assert.equal(r.headers['x-request-sha256'], sha(bodyOf(sizes[i]!)));
          assert.ok(r.body.equals(bodyOf(sizes[i]!)), `echo of ${sizes[i]} bytes intact`);
          assert.equal(r.trailers?.['x-sha256'], sha(bodyOf(sizes[i]!)));
        }
      } finally {
        session.destroy();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await p.stop(100);
    await backend.close();
  }
});

// gRPC with raw byte messages: no proto needed, and the test sees exactly what crossed.
const raw = { serialize: (b: Buffer): Buffer => b, deserialize: (b: Buffer): Buffer => b };
const methods = {
  unary: { path: '/sluice.Interop/Unary', requestStream: false, responseStream: false },
  serverStream: { path: '/sluice.Interop/ServerStream', requestStream: false, responseStream: true },
  clientStream: { path: '/sluice.Interop/ClientStream', requestStream: true, responseStream: false },
} as const;
const service: grpc.ServiceDefinition = Object.fromEntries(
  Object.entries(methods).map(([name, m]) => [
    name,
    { ...m, originalName: name, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize },
  ]),
);

test('interop through the proxy: @grpc/grpc-js client and server, unary (1 MiB), server streaming and client streaming, status and trailers', { timeout: 120_000 }, async () => {
  const server = new grpc.Server();
  server.addService(service, {
    unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-sha256', sha(call.request));
      if (call.request.length === 0) return cb({ code: grpc.status.FAILED_PRECONDITION, details: 'empty request' });
      cb(null, call.request, md);
    },
    serverStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = call.request.readUInt32BE(0);
      for (let i = 0; i < n; i++) call.write(bodyOf(64 * 1024 + i));
      call.end();
    },
    clientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const hash = createHash('sha256');
      let count = 0;
      call.on('data', (m: Buffer) => {
        hash.update(m);
        count++;
      });
      call.on('end', () => cb(null, Buffer.from(`${count}:${hash.digest('hex')}`)));
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const p = await proxy(['--endpoints', `127.0.0.1:${port}`]);
  const client = new grpc.Client(`127.0.0.1:${p.listen.port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': 32 * MiB,
    'grpc.max_send_message_length': 32 * MiB,
  });
  try {
    // Unary, 1 MiB each way, with the server's trailing metadata.
    const request = bodyOf(MiB);
    // The callback comes before the 'status' event that carries the trailers: wait for both.
    const { reply, trailers } = await new Promise<{ reply: Buffer; trailers: grpc.Metadata }>((resolve, reject) => {
      let reply: Buffer | undefined;
      const call = client.makeUnaryRequest(methods.unary.path, raw.serialize, raw.deserialize, request, (err, r) => (err ? reject(err) : (reply = r)));
      call.on('status', (s: grpc.StatusObject) => (reply ? resolve({ reply, trailers: s.metadata }) : reject(new Error(`status ${s.code} without a reply`))));
    });
    assert.ok(reply.equals(request), 'the 1 MiB reply is the request');
    assert.deepEqual(trailers.get('x-sha256'), [sha(request)]);

    // A non-OK status crosses as the server set it (grpc-status and grpc-message in the trailers).
    const failure = await new Promise<grpc.ServiceError>((resolve, reject) =>
      client.makeUnaryRequest(methods.unary.path, raw.serialize, raw.deserialize, Buffer.alloc(0), (err) => (err ? resolve(err) : reject(new Error('expected an error')))),
    );
    assert.equal(failure.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(failure.details, 'empty request');

    // Server streaming: 40 messages of 64 KiB and more (about 2.5 MiB), each intact and in order.
    const count = 40;
    const messages = await new Promise<Buffer[]>((resolve, reject) => {
      const got: Buffer[] = [];
      const n = Buffer.alloc(4);
      n.writeUInt32BE(count);
      const call = client.makeServerStreamRequest(methods.serverStream.path, raw.serialize, raw.deserialize, n);
      call.on('data', (m: Buffer) => got.push(m));
      call.on('error', reject);
      call.on('end', () => resolve(got));
    });
    assert.equal(messages.length, count);
    for (const [i, m] of messages.entries()) assert.ok(m.equals(bodyOf(64 * 1024 + i)), `message ${i} intact`);

    // Client streaming: 16 messages of 1 MiB (16 MiB up), summed by the server.
    const sent = Array.from({ length: 16 }, (_, i) => bodyOf(MiB - i));
    const summary = await new Promise<Buffer>((resolve, reject) => {
      const call = client.makeClientStreamRequest(methods.clientStream.path, raw.serialize, raw.deserialize, (err, reply) => (err ? reject(err) : resolve(reply!)));
      for (const m of sent) call.write(m);
      call.end();
    });
    const expected = createHash('sha256');
    for (const m of sent) expected.update(m);
    assert.equal(summary.toString(), `${sent.length}:${expected.digest('hex')}`);
  } finally {
    client.close();
    await p.stop(100);
    server.forceShutdown();
  }
});
