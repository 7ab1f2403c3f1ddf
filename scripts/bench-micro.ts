// `npm run bench:micro [-- --time-ms N] [-- --only TEXT]`: the proxy's per-request hot paths in isolation (tinybench), so a change
// to one of them shows up as a number before it is lost in the noise of a load run: p2c pick over 1 / 10 / 100
// endpoints, the balancer's whole route (usable endpoints, pick, call), the PeakEWMA update, header rewriting,
// the layer stack over an in-memory inner service against that service called bare, and h2/'s codec (frame
// parse, HPACK decode and encode of a gRPC request, issue 15). In-process and
// CPU-bound: read the figures as ratios against each other on one machine, never as wall-clock promises.
import { Readable } from 'node:stream';
import { Bench } from 'tinybench';
import { newBalancer, pickerFor, type Balancer } from '../proxy/src/balancer/index.js';
import { PeakEwma } from '../proxy/src/balancer/peak-ewma.js';
import { Cancellation } from '../proxy/src/cancel.js';
import { parseConfig } from '../proxy/src/config.js';
import { endToEnd } from '../proxy/src/headers.js';
import { ProxyMetrics } from '../proxy/src/metrics.js';
import type { ProxyRequest, ProxyResponse, Service } from '../proxy/src/service.js';
import { buildStack } from '../proxy/src/stack.js';
import { LiveTally } from '../harness/load/statistic/live.js';
import { formatMicroTable, type MicroRow } from './micro-table.js';
import { parseFrame } from '../h2/frame-parse.js';
import { dataFrame, FRAME, FrameReader, headersFrames, type FrameHandler } from '../h2/frames.js';
import { HpackDecoder } from '../h2/hpack/decoder.js';
import { HpackEncoder } from '../h2/hpack/encoder.js';
import { H2Connection, type Transport } from '../h2/connection.js';

const EMPTY_BODY = Readable.from([]);

/** The headers a grpc-js client sends, as node:http2 hands them to the downstream adapter. */
const GRPC_REQUEST_HEADERS = {
  ':method': 'POST',
  ':path': '/sluice.echo.Echo/Unary',
  ':authority': '127.0.0.1:4140',
  ':scheme': 'http',
  'content-type': 'application/grpc',
  te: 'trailers',
  'user-agent': 'grpc-node-js/1.14.7',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'accept-encoding': 'identity',
  'grpc-timeout': '4999m',
};

function request(): ProxyRequest {
  return {
    method: 'GET',
    path: '/',
    authority: '127.0.0.1:4140',
    scheme: 'http',
    headers: {},
    body: EMPTY_BODY,
    endStream: true,
    downstreamProtocol: 'h2',
    signal: new Cancellation().signal,
  };
}

/** An upstream that answers at once: what remains measured is the proxy's own work around it. */
const inMemory: Service = () =>
  Promise.resolve<ProxyResponse>({
    status: 200,
    headers: { 'content-type': 'text/plain' },
    body: EMPTY_BODY,
    trailers: Promise.resolve(undefined),
    endStream: true,
  });

async function balancerOf(n: number): Promise<Balancer> {
  const balancer = newBalancer({
    policy: 'p2c',
    endpoints: Array.from({ length: n }, (_, i) => ({ name: `127.0.0.1:${9000 + i}`, service: inMemory, probe: () => Promise.resolve() })),
    decayMs: 10_000,
    defaultRttMs: 30,
  });
  await balancer.settled(1000);
  return balancer;
}

/** h2/'s hot paths on a typical gRPC request: frame parse, HPACK decode and encode with the dynamic table warm. */
function addH2Rows(bench: Bench): void {
  const fields = Object.entries(GRPC_REQUEST_HEADERS);
  // A client's encoder and our decoder, one request in: what every later request on the connection looks like.
  const clientEncoder = new HpackEncoder();
  const decoder = new HpackDecoder();
  const first = clientEncoder.encode(fields);
  decoder.decode(first, 0, first.length, undefined);
  const warmBlock = clientEncoder.encode(fields);
  let decoded = 0;
  const sink = { onHeader: (): void => void decoded++ };
  // HEADERS then DATA (a 5-byte gRPC prefix and a 100-byte message), in one socket read.
  const request = Buffer.concat([headersFrames(1, warmBlock, false), dataFrame(1, Buffer.alloc(105, 1), true)]);
  let frames = 0;
  const handler: FrameHandler = {
    onFrame(type, flags, streamId, payload, start, end) {
      if (type === FRAME.HEADERS) frames += parseFrame(type, flags, streamId, payload, start, end).type.length;
    },
    onData() {
      frames++;
    },
  };
  const reader = new FrameReader(handler);
  bench.add(`h2: frame parse, HEADERS (${warmBlock.length} B block) + DATA (105 B) of a gRPC request`, () => {
    reader.push(request);
  });
  bench.add(`h2: HPACK decode, gRPC request (10 fields, ${warmBlock.length} B, dynamic table warm)`, () => {
    decoder.decode(warmBlock, 0, warmBlock.length, sink);
  });
  // The same block decoded field by field: what the block cache (h2/hpack/block-cache.ts) saves on a steady peer.
  const uncached = new HpackDecoder(undefined, undefined, false);
  uncached.decode(first, 0, first.length, undefined);
  bench.add(`h2: HPACK decode, gRPC request (10 fields, ${warmBlock.length} B, dynamic table warm, block cache off)`, () => {
    uncached.decode(warmBlock, 0, warmBlock.length, sink);
  });
  const encoder = new HpackEncoder();
  encoder.encode(fields);
  bench.add('h2: HPACK encode, gRPC request (10 fields, dynamic table warm)', () => {
    encoder.encode(fields);
  });
  if (frames < 0 || decoded < 0) throw new Error('unreachable');
  addH2PairRow(bench, fields);
}

/**
 * A whole gRPC unary call through an H2Connection client and server in memory: request() (10 fields) and a
 * 105-byte message with END_STREAM; the server's onHeaders / onData answer respond + 1 KiB DATA + trailers; the
 * client reads them and gives the credit back (strict flow control, as the generator does). Writes go to a
 * queue drained in the task, so nothing of a socket is measured, only the two connections' own work.
 */
function addH2PairRow(bench: Bench, fields: Array<[string, string]>): void {
  // The peer is looked up at drain time: the server writes its SETTINGS before the client exists.
  const pending: Array<[() => H2Connection, Buffer]> = [];
  const transport = (to: () => H2Connection): Transport => ({
    write: (buf) => void pending.push([to, buf]),
    end: () => {},
    destroy: () => {},
  });
  const drain = (): void => {
    for (let i = 0; i < pending.length; i++) pending[i]![0]().receive(pending[i]![1]);
    pending.length = 0;
  };
  const response: Array<[string, string]> = [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-accept-encoding', 'identity,deflate,gzip']];
  const trailers: Array<[string, string]> = [['grpc-status', '0'], ['grpc-message', '']];
  const message = Buffer.alloc(105, 1);
  const reply = Buffer.alloc(1024, 2);
  let done = 0;
  let sent = 0;
  const server: H2Connection = new H2Connection('server', transport(() => client), {
    onData(id, data, endStream) {
      server.consume(id, data.length);
      if (!endStream) return;
      server.respond(id, response);
      server.sendData(id, reply);
      server.sendTrailers(id, trailers);
    },
  });
  const client: H2Connection = new H2Connection('client', transport(() => server), {
    onData(id, data) {
      client.consume(id, data.length);
    },
    onHeaders(_id, _headers, endStream) {
      if (endStream) done++;
    },
  });
  drain();
  bench.add('h2: a whole request through an H2Connection client and server pair in memory (gRPC unary, 1 KiB reply)', () => {
    const id = client.request(fields);
    client.sendData(id, message, true);
    drain();
    // A broken pair would measure nothing: every call must have been answered, both ends still open.
    if (++sent !== done || client.closed || server.closed) throw new Error(`h2 pair: ${done} of ${sent} answered, ${client.closeReason?.message ?? server.closeReason?.message ?? 'open'}`);
  });
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--time-ms');
  const timeMs = at >= 0 ? Number(process.argv[at + 1]) : 500;
  if (!(timeMs >= 10 && timeMs <= 60_000)) {
    process.stderr.write('bench-micro: --time-ms must be a number in [10, 60000]\n');
    process.exit(2);
  }
  // `--only TEXT`: the rows whose name holds TEXT (the others are not run).
  const only = process.argv.indexOf('--only');
  const filter = only >= 0 ? (process.argv[only + 1] ?? '') : '';
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs) });
  const balancers: Balancer[] = [];
  for (const n of [1, 10, 100]) {
    const balancer = await balancerOf(n);
    balancers.push(balancer);
    const pick = pickerFor('p2c');
    bench.add(`p2c pick, ${n} endpoint${n > 1 ? 's' : ''}`, () => {
      pick(balancer.endpoints);
    });
    bench.add(`balancer route + call, ${n} endpoint${n > 1 ? 's' : ''}`, async () => {
      const res = await balancer.service(request());
      await res.trailers;
    });
  }
  const ewma = new PeakEwma({ decayMs: 10_000, defaultRttMs: 30, now: 0 });
  let t = 0;
  bench.add('PeakEWMA observe', () => {
    t += 0.1;
    ewma.observe(1 + (t % 3), t);
  });
  // What the live /metrics costs the generator per request (harness/load/statistic/live.ts).
  const live = new LiveTally();
  let n = 0;
  bench.add('generator: live tally of one outcome (settle, take every 10k)', () => {
    live.settle(true, undefined, 0.2 + (++n % 7));
    if (n % 10_000 === 0) live.take();
  });
  bench.add('endToEnd headers (gRPC request, 10 fields)', () => {
    endToEnd(GRPC_REQUEST_HEADERS);
  });
  bench.add('in-memory service, bare', async () => {
    const res = await inMemory(request());
    await res.trailers;
  });
  // An always-open gate: an endpoint is ready, so the queue layer passes requests straight through.
  const gate = { state: 'open' as const, onChange: () => () => {} };
  // The proxy's defaults (no request timeout, 2 retries under the budget): what a bench cell runs with.
  const parsed = parseConfig(['--endpoints', '127.0.0.1:9000']);
  if (parsed.help) throw new Error('unreachable: no --help given');
  const { config } = parsed;
  const stack = buildStack({ metrics: new ProxyMetrics(), balancer: inMemory, gate, queueCapacity: config.queueCapacity, config, maxRequestBodyBytes: config.maxRequestBodyBytes });
  bench.add('in-memory service through the layer stack', async () => {
    const res = await stack(request());
    await res.trailers;
  });
  addH2Rows(bench);
  for (const task of [...bench.tasks]) if (!task.name.includes(filter)) bench.remove(task.name);
  await bench.run();
  for (const b of balancers) b.close();

  const rows: MicroRow[] = bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`bench-micro: ${task.name} did not complete (${r.state}${r.state === 'errored' ? `: ${String(r.error)}` : ''})`);
    return { name: task.name, medianNs: r.latency.p50 * 1e6, meanNs: r.latency.mean * 1e6, p99Ns: r.latency.p99 * 1e6, opsPerS: r.throughput.mean, samples: r.latency.samplesCount };
  });
  const pair: [string, string] = ['in-memory service through the layer stack', 'in-memory service, bare'];
  // A filter that left out either row of the pair leaves out the comparison too.
  const pairs = pair.every((name) => rows.some((r) => r.name === name)) ? [pair] : [];
  process.stdout.write(formatMicroTable(rows, pairs));
}

await main();
