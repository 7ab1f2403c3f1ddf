// The trace (LoadOptions.trace): outcomes by the time they arrived, in buckets from the window's opening to the
// end of the drain, with the endpoint that answered each success. Unit tests of the buckets and their merge, a
// recorder that keeps only the window's requests, then runLoad over two workers against a server that
// alternates two x-sluice-endpoint values and fails everything from 500 ms on; and every client that reads
// the endpoint (wire h2 and gRPC, undici, node:http2, grpc-js).
import assert from 'node:assert/strict';
import http from 'node:http';
import type http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../../../workloads/proto/path.js';
import { LoadOptionsError } from '../../load/options.js';
import { runLoad } from '../../load/run-load.js';
import { initHistograms } from '../../load/statistic/histogram.js';
import { OutcomeHistograms } from '../../load/statistic/outcome-histograms.js';
import { Recorder } from '../../load/statistic/recorder.js';
import { mergeTraces, Trace, type TraceBucket } from '../../load/statistic/trace.js';
import type { LoadOptions, RepResult } from '../../load/types.js';
import { h2Server, quickOptions, type TestServer } from './servers.js';

const ENDPOINT = 'x-sluice-endpoint';
const at = (intended: number, sent = intended) => ({ intended, sent });
const total = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);

test('trace: outcomes land in the bucket of their arrival, empty buckets kept up to the end of the drain', () => {
  const trace = new Trace(100);
  trace.begin(1000);
  trace.success(1050, 40, 'a');
  trace.success(1099.9, 12, 'b');
  trace.success(1100, 5, undefined); // no endpoint header: counted in ok only
  trace.failure('status:5xx', 1350, 3);
  trace.failure('timeout', 1360, 250);
  const buckets = trace.finish(1420);
  assert.deepEqual(buckets, [
    { t: 0, ok: 2, errors: {}, endpoints: { a: 1, b: 1 }, maxLatencyMs: 40 },
    { t: 100, ok: 1, errors: {}, endpoints: {}, maxLatencyMs: 5 },
    { t: 200, ok: 0, errors: {}, endpoints: {}, maxLatencyMs: 0 },
    { t: 300, ok: 0, errors: { 'status:5xx': 1, timeout: 1 }, endpoints: {}, maxLatencyMs: 250 },
    { t: 400, ok: 0, errors: {}, endpoints: {}, maxLatencyMs: 0 },
  ]);
});

test('trace: an endpoint named __proto__ is a key like any other', () => {
  const trace = new Trace(10);
  trace.begin(0);
  trace.success(1, 1, '__proto__');
  const [bucket] = trace.finish(5);
  assert.equal(Object.getPrototypeOf(bucket!.endpoints), Object.prototype);
  assert.deepEqual(Object.entries(bucket!.endpoints), [['__proto__', 1]]);
});

test('trace: workers merge by bucket index, counts added, the largest latency kept, the longer drain kept', () => {
  const a: TraceBucket[] = [
    { t: 0, ok: 3, errors: {}, endpoints: { '9001': 2, '9002': 1 }, maxLatencyMs: 4 },
    { t: 50, ok: 0, errors: { 'status:5xx': 2 }, endpoints: {}, maxLatencyMs: 9 },
  ];
  const b: TraceBucket[] = [
    { t: 0, ok: 1, errors: {}, endpoints: { '9002': 1 }, maxLatencyMs: 7 },
    { t: 50, ok: 1, errors: { 'status:5xx': 1, timeout: 1 }, endpoints: { '9001': 1 }, maxLatencyMs: 2 },
    { t: 100, ok: 0, errors: {}, endpoints: {}, maxLatencyMs: 0 },
  ];
  assert.deepEqual(mergeTraces(50, [a, b]), [
    { t: 0, ok: 4, errors: {}, endpoints: { '9001': 2, '9002': 2 }, maxLatencyMs: 7 },
    { t: 50, ok: 1, errors: { 'status:5xx': 3, timeout: 1 }, endpoints: { '9001': 1 }, maxLatencyMs: 9 },
    { t: 100, ok: 0, errors: {}, endpoints: {}, maxLatencyMs: 0 },
  ]);
});

test('trace: the recorder keeps the requests sent in the window, by arrival; a timeout arrives at its deadline', async () => {
  await initHistograms();
  const histograms = new OutcomeHistograms(false);
  try {
    const trace = new Trace(100);
    const recorder = new Recorder(1000);
    recorder.startRun({ histograms, trace });
    recorder.success(at(50), 120, 'w'); // sent in the warm-up: not traced
    recorder.openWindow(100);
    recorder.success(at(150), 160, 'a');
    recorder.failure('timeout', at(180), 1250); // its timer fired late; given up at 1180
    recorder.closeWindow(300);
    recorder.success(at(290), 620, 'b'); // sent in the window, answered in the drain
    recorder.success(at(300), 310, 'c'); // sent after the window: not
    recorder.seal();
    const buckets = trace.finish(1300);
    assert.equal(buckets.length, 13);
    assert.deepEqual(buckets[0], { t: 0, ok: 1, errors: {}, endpoints: { a: 1 }, maxLatencyMs: 10 });
    assert.deepEqual(buckets[5], { t: 500, ok: 1, errors: {}, endpoints: { b: 1 }, maxLatencyMs: 330 });
    assert.deepEqual(buckets[10], { t: 1000, ok: 0, errors: { timeout: 1 }, endpoints: {}, maxLatencyMs: 1000 });
    assert.equal(buckets.reduce((n, b) => n + b.ok + total(b.errors), 0), recorder.counts().requests);
  } finally {
    histograms.destroy();
  }
});

test('trace: bad trace options are refused by name', async () => {
  const base = quickOptions('http://127.0.0.1:1/', 'h2');
  const cases: [Partial<LoadOptions>, keyof LoadOptions][] = [
    [{ trace: { bucketMs: 0 } }, 'trace'],
    [{ trace: { bucketMs: 2.5 } }, 'trace'],
    [{ trace: { bucketMs: 1 }, durationMs: 3_600_000 }, 'trace'], // millions of buckets
    [{ trace: { bucketMs: 100 }, generator: 'h2load' }, 'generator'],
  ];
  for (const [override, option] of cases) {
    await assert.rejects(runLoad({ ...base, ...override }), (err: unknown) => err instanceof LoadOptionsError && err.option === option, JSON.stringify(override));
  }
});

/** Sums a trace's successes by endpoint. */
function endpointTotals(r: RepResult): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const b of r.trace!.buckets) for (const [e, n] of Object.entries(b.endpoints)) totals[e] = (totals[e] ?? 0) + n;
  return totals;
}

test('trace over two workers: successes per endpoint, and errors from the bucket at ~500 ms when the server starts failing', async () => {
  let n = 0;
  let firstAt: number | undefined;
  // Alternates two endpoints, one stream each; from 500 ms after the first stream on (the window opens with it:
  // no warm-up), every answer is a 503.
  const server = await h2Server((stream) => {
    stream.resume();
    firstAt ??= performance.now();
    if (performance.now() - firstAt >= 500) {
      stream.respond({ ':status': 503, 'content-length': '4' });
      stream.end('fail');
      return;
    }
    stream.respond({ ':status': 200, 'content-length': '2', [ENDPOINT]: ++n % 2 === 0 ? '9002' : '9001' });
    stream.end('ok');
  });
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { workers: 2, connections: 2, streamsPerConnection: 2, durationMs: 1000, warmupMs: 0, trace: { bucketMs: 100 } }));
    const { buckets, bucketMs } = r.trace!;
    assert.equal(bucketMs, 100);
    assert.deepEqual(
      buckets.map((b) => b.t),
      buckets.map((_, i) => i * 100),
    );
    // The window (1 s) and its drain: at least 10 buckets.
    assert.ok(buckets.length >= 10, `${buckets.length} buckets`);
    // Every request of the window is in the trace once.
    assert.equal(buckets.reduce((s, b) => s + b.ok, 0), r.successes);
    assert.equal(buckets.reduce((s, b) => s + total(b.errors), 0), r.requests - r.successes);
    // Each success named its endpoint, the two alternating.
    for (const b of buckets) assert.equal(total(b.endpoints), b.ok, `bucket ${b.t}`);
    const byEndpoint = endpointTotals(r);
    assert.deepEqual(Object.keys(byEndpoint), ['9001', '9002']);
    assert.ok(Math.abs(byEndpoint['9001']! - byEndpoint['9002']!) <= 1, JSON.stringify(byEndpoint));
    assert.ok(r.successes > 0 && r.successes < r.requests, `${r.successes} of ${r.requests}`);
    // The errors begin at ~500 ms (a bucket's slack either side for the two clocks) and the successes end there.
    const failing = buckets.filter((b) => total(b.errors) > 0);
    assert.deepEqual(Object.keys(Object.assign({}, ...failing.map((b) => b.errors)) as Record<string, number>), ['status:5xx']);
    const firstError = failing[0]!.t;
    assert.ok(firstError >= 400 && firstError <= 600, `first errors in the bucket at ${firstError} ms`);
    const lastOk = Math.max(...buckets.filter((b) => b.ok > 0).map((b) => b.t));
    assert.ok(lastOk <= 600, `successes until ${lastOk} ms`);
    for (const b of buckets) if (b.ok + total(b.errors) > 0) assert.ok(b.maxLatencyMs > 0, `bucket ${b.t}`);
    assert.equal(r.workers?.length, 2);
  } finally {
    await server.close();
  }
});

/** An HTTP/1.1 server answering 200 with alternating x-sluice-endpoint values. */
async function h1EndpointServer(): Promise<TestServer> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-length': '2', 'X-Sluice-Endpoint': ++n % 2 === 0 ? '9002' : '9001' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A grpc-js Echo server naming its endpoint in the response metadata, as sluice's gRPC backend does. */
async function grpcEndpointServer(): Promise<TestServer> {
  const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
  const service = definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition;
  const server = new grpc.Server();
  let n = 0;
  server.addService(service, {
    Unary: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<{ payload: Buffer }>) => {
      const metadata = new grpc.Metadata();
      metadata.set(ENDPOINT, ++n % 2 === 0 ? '9002' : '9001');
      call.sendMetadata(metadata);
      callback(null, { payload: Buffer.alloc(16, 0x61) });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { url: `http://127.0.0.1:${port}/`, close: async () => void server.forceShutdown() };
}

async function h2EndpointServer(): Promise<TestServer> {
  let n = 0;
  return h2Server((stream: http2.ServerHttp2Stream) => {
    stream.resume();
    stream.respond({ ':status': 200, 'content-length': '2', [ENDPOINT]: ++n % 2 === 0 ? '9002' : '9001' });
    stream.end('ok');
  });
}

const CLIENTS: [string, () => Promise<TestServer>, Pick<LoadOptions, 'protocol'> & Partial<LoadOptions>][] = [
  ['h2 wire', h2EndpointServer, { protocol: 'h2' }],
  ['h2 node:http2 (client lib)', h2EndpointServer, { protocol: 'h2', client: 'lib' }],
  ['gRPC wire', grpcEndpointServer, { protocol: 'grpc' }],
  ['gRPC grpc-js (client lib)', grpcEndpointServer, { protocol: 'grpc', client: 'lib' }],
  ['h1 undici', h1EndpointServer, { protocol: 'h1' }],
];

for (const [name, start, options] of CLIENTS) {
  test(`trace: ${name} reads x-sluice-endpoint of every success`, async () => {
    const server = await start();
    try {
      const r = await runLoad(quickOptions(server.url, options.protocol, { ...options, durationMs: 400, warmupMs: 100, trace: { bucketMs: 50 } }));
      assert.deepEqual(r.errors, {});
      assert.ok(r.successes > 0);
      const byEndpoint = endpointTotals(r);
      assert.deepEqual(Object.keys(byEndpoint), ['9001', '9002'], JSON.stringify(byEndpoint));
      assert.equal(byEndpoint['9001']! + byEndpoint['9002']!, r.successes);
    } finally {
      await server.close();
    }
  });
}

test('trace: a run without it has no trace', async () => {
  const server = await h2EndpointServer();
  try {
    const r = await runLoad(quickOptions(server.url, 'h2', { durationMs: 200, warmupMs: 0 }));
    assert.equal(r.trace, undefined);
    assert.ok(r.successes > 0);
  } finally {
    await server.close();
  }
});
