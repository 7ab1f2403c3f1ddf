// `npm run bench:truth`: the five edge cases of issue 9, run as a user runs them: `npm run load -- ... --json`
// (a child process) against small h2c servers in this process. Prints what each case's numbers say, so a
// change to the generator can be read before and after. Each case is bounded (a few seconds).
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const run = promisify(execFile);
const LOAD = 'dist/harness/cli/load.js';

interface Server {
  url: string;
  /** Streams seen per session, in the order the sessions opened. */
  perSession: number[];
  close(): Promise<void>;
}

type Answer = (stream: http2.ServerHttp2Stream, n: number, sinceFirstMs: number) => void;

async function server(answer: Answer): Promise<Server> {
  const s = http2.createServer();
  const perSession: number[] = [];
  const index = new WeakMap<http2.Http2Session, number>();
  const sessions = new Set<http2.Http2Session>();
  let n = 0;
  let first: number | undefined;
  s.on('session', (session) => {
    index.set(session, perSession.push(0) - 1);
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  s.on('stream', (stream) => {
    stream.on('error', () => undefined);
    perSession[index.get(stream.session!)!]!++;
    const now = performance.now();
    first ??= now;
    stream.resume();
    answer(stream, ++n, now - first);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    perSession,
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

function reply(stream: http2.ServerHttp2Stream, status = 200, delayMs = 0): void {
  const send = (): void => {
    if (stream.destroyed || stream.closed) return;
    stream.respond({ ':status': status, 'content-length': '2' });
    stream.end('ok');
  };
  if (delayMs > 0) {
    const timer = setTimeout(send, delayMs);
    stream.once('close', () => clearTimeout(timer));
  } else send();
}

type Rep = Record<string, unknown> & {
  rps: number;
  requests: number;
  latencyMs: Record<string, number>;
  errors: Record<string, number>;
  openLoop?: Record<string, unknown>;
};

async function load(url: string, args: string[]): Promise<Rep> {
  const { stdout } = await run(process.execPath, [LOAD, '--url', url, '--json', ...args], { maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as Rep;
}

const pick = (r: Rep, keys: string[]): string =>
  keys
    .filter((k) => r[k] !== undefined)
    .map((k) => `${k} ${typeof r[k] === 'number' ? (r[k] as number).toFixed(k.endsWith('Rate') || k.endsWith('Ms') ? 3 : 0) : JSON.stringify(r[k])}`)
    .join(', ');
const lat = (l: Record<string, number> | undefined): string =>
  l ? ['p50', 'p99', 'max'].map((k) => `${k} ${l[k]?.toFixed(2)}`).join(' ') + ' ms' : '-';

async function withServer<T>(answer: Answer, work: (s: Server) => Promise<T>): Promise<T> {
  const s = await server(answer);
  try {
    return await work(s);
  } finally {
    await s.close();
  }
}

async function main(): Promise<void> {
  const out: string[] = [];
  const line = (s: string): void => {
    out.push(s);
    process.stdout.write(s + '\n');
  };

  line('## 1. fast failures: half the requests answered 503 at once, the rest after 2 ms (closed loop -c 1 -m 4, 2 s)');
  const closed = ['-c', '1', '-m', '4', '-d', '2s', '--warmup', '500ms'];
  const allOk = await withServer((st) => reply(st, 200, 2), (s) => load(s.url, closed));
  const half = await withServer((st, n) => (n % 2 ? reply(st, 503) : reply(st, 200, 2)), (s) => load(s.url, closed));
  line(`  all 200:  ${pick(allOk, ['rps', 'completedRps', 'errorRate', 'requests'])}`);
  line(`  half 503: ${pick(half, ['rps', 'completedRps', 'errorRate', 'requests'])}; errors ${JSON.stringify(half.errors)}`);
  line(`  ratio rps(half 503) / rps(all 200) = ${(half.rps / allOk.rps).toFixed(2)}`);

  line('## 2. timeouts: 10% of requests held 3 s, --timeout 1s (closed loop -c 1 -m 8, 3 s)');
  const held = await withServer((st, n) => (n % 10 === 0 ? reply(st, 200, 3000) : reply(st)), (s) =>
    load(s.url, ['-c', '1', '-m', '8', '-d', '3s', '--warmup', '0s', '--timeout', '1s']),
  );
  line(`  ${pick(held, ['rps', 'requests'])}; latency ${lat(held.latencyMs)}; lower bound ${JSON.stringify(held['latencyLowerBounds'] ?? '-')}; errors ${JSON.stringify(held.errors)}`);

  line('## 3. a stall that outlives the window: open loop 200/s for 3 s, everything sent after 2.5 s held 10 s');
  const stall = await withServer((st, _n, since) => reply(st, 200, since >= 2500 ? 10_000 : 0), (s) =>
    load(s.url, ['--rate', '200', '-c', '1', '-d', '3s', '--warmup', '0s', '--timeout', '5s']),
  );
  const o = stall.openLoop ?? {};
  line(`  ${pick(stall, ['rps', 'requests'])}; latency ${lat(stall.latencyMs)}; errors ${JSON.stringify(stall.errors)}; due ${String(o['due'])}, sent ${String(o['sent'])}, behind ${String(o['behind'])}`);

  line('## 4. open loop over connections: -c 4 --rate 500 for 3 s, streams per connection seen by the server');
  for (const mode of [['--rate', '500'], ['-m', '4']]) {
    const spread = await withServer((st) => reply(st), async (s) => {
      await load(s.url, ['-c', '4', ...mode, '-d', '3s', '--warmup', '500ms']);
      return s.perSession;
    });
    const total = spread.reduce((a, b) => a + b, 0);
    line(`  ${mode.join(' ')}: streams per session ${JSON.stringify(spread)} (shares ${spread.map((n) => ((100 * n) / total).toFixed(1) + '%').join(', ')})`);
  }

  line('## 5. open-loop lateness: 1000/s against an instant server vs closed loop with one request in flight (3 s)');
  const [open, one] = await withServer((st) => reply(st), async (s) => [
    await load(s.url, ['--rate', '1000', '-c', '1', '-d', '3s', '--warmup', '500ms']),
    await load(s.url, ['-c', '1', '-m', '1', '-d', '3s', '--warmup', '500ms']),
  ]);
  const ol = open.openLoop ?? {};
  line(`  open 1000/s: P50 ${open.latencyMs['p50']?.toFixed(3)} ms; lag ${pick(ol as Rep, ['lagP50Ms', 'lagP99Ms', 'maxLagMs', 'meanLagMs'])}`);
  line(`  closed c=1:  P50 ${one.latencyMs['p50']?.toFixed(3)} ms; difference ${((open.latencyMs['p50'] ?? 0) - (one.latencyMs['p50'] ?? 0)).toFixed(3)} ms`);
  if (open['uncorrectedLatencyMs']) line(`  open 1000/s uncorrected (from the real send): ${lat(open['uncorrectedLatencyMs'] as Record<string, number>)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-truth: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
