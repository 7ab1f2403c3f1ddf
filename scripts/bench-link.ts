// `npm run bench:link`: how faithful the emulated link (workloads/link/) is on this machine, measured as the
// harness uses it: the link as a child process, on 127.0.0.1 only, each case bounded to a few seconds.
// 1. Added RTT: small ping-pongs through `--rtt 40ms` (precise and timer wake-ups) against the same echo with
//    no link; also against an echo that holds each answer 40 ms itself (Atomics.wait, no link), which pays the
//    same idle wake-ups of the client and the server as the link case does, so the difference is the link's own.
// 2. Bulk throughput at 10, 100 and 1000 Mbit/s (rtt 40 ms), unlimited, and with no link; CPU per MB relayed.
// 3. The idle link's CPU (nothing should poll).
// Prints Markdown tables; the numbers in workloads/link/README.md come from here.
import { spawn, type ChildProcess } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const LINK = fileURLToPath(new URL('../workloads/link/main.js', import.meta.url));
const RTT_MS = 40;
const PINGS = 100;
const BULK_SECONDS = 2;
const CASE_TIMEOUT_MS = 20_000;

interface Address {
  host: string;
  port: number;
}

interface LinkStats {
  cpuS: number;
  directions: Record<'forward' | 'reverse', { lateness: { p50Ms: number; p90Ms: number; p99Ms: number; maxMs: number } }>;
  saturated: boolean;
  reason: string | null;
  warning: string | null;
  calibration: { relayBps: number } | null;
}

interface Child {
  address: Address;
  stop(): Promise<void>;
}

interface Link extends Child {
  stats(): Promise<LinkStats>;
}

/** Spawns a node process, reads its first stdout line. */
async function spawnWithLine(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before its first line`)));
  });
  return { child, line };
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** An echo server in its own process; `holdMs` > 0 holds each answer that long (blocking, to the µs). */
async function echo(holdMs: number): Promise<Child> {
  const code = `
    import net from 'node:net';
    const hold = new Int32Array(new SharedArrayBuffer(4));
    const server = net.createServer({ noDelay: true }, (s) => {
      s.on('error', () => {});
      s.on('data', (d) => { if (${holdMs} > 0) Atomics.wait(hold, 0, 0, ${holdMs}); s.write(d); });
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
    process.on('SIGTERM', () => process.exit(0));`;
  const { child, line } = await spawnWithLine(['--input-type=module', '-e', code]);
  return { address: { host: '127.0.0.1', port: Number(line) }, stop: stopper(child) };
}

async function link(to: Address, flags: string[]): Promise<Link> {
  const { child, line } = await spawnWithLine([LINK, '--listen', '127.0.0.1:0', '--to', `${to.host}:${to.port}`, ...flags]);
  const ready = JSON.parse(line) as { routes: Array<{ listen: string }>; admin: string };
  const [host, port] = ready.routes[0]!.listen.split(':');
  return {
    address: { host: host!, port: Number(port) },
    stats: async () => (await (await fetch(`http://${ready.admin}/stats`)).json()) as LinkStats,
    stop: stopper(child),
  };
}

function connect(address: Address): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ ...address, noDelay: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** `n` one-byte ping-pongs, one at a time; round trips in ms. */
async function pingPong(address: Address, n: number): Promise<number[]> {
  const socket = await connect(address);
  const rtts: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const back = new Promise((resolve) => socket.once('data', resolve));
    socket.write('p');
    await back;
    rtts.push(performance.now() - started);
  }
  socket.destroy();
  return rtts;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summary(values: number[]): { mean: number; p50: number; p99: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
}

/** Sends `bytes` through `address` to a sink in this process; Mbit/s from the sink's first byte to its last. */
async function bulk(send: (sinkPort: number) => Promise<Address>, bytes: number): Promise<{ mbps: number; ms: number }> {
  let received = 0;
  let first = 0;
  let firstBytes = 0;
  let finish: (ms: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));
  const sink = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (chunk: Buffer) => {
      if (first === 0) {
        first = performance.now();
        firstBytes = chunk.length;
      }
      received += chunk.length;
      if (received >= bytes) finish(performance.now());
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  try {
    const client = await connect(await send((sink.address() as AddressInfo).port));
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    let sent = 0;
    const pump = (): void => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!client.write(chunk)) return void client.once('drain', pump);
      }
    };
    pump();
    const last = await Promise.race([done, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('bulk case timed out')), CASE_TIMEOUT_MS))]);
    client.destroy();
    return { mbps: ((received - firstBytes) * 8) / ((last - first) / 1000) / 1e6, ms: last - first };
  } finally {
    sink.close();
  }
}

const f = (n: number, digits = 2): string => n.toFixed(digits);

async function rttTable(): Promise<void> {
  const plain = await echo(0);
  const held = await echo(RTT_MS);
  try {
    const direct = summary(await pingPong(plain.address, PINGS));
    const rows: string[] = [];
    const row = (name: string, rtts: number[], cpu: string, late: string): void => {
      const added = summary(rtts.map((ms) => ms - direct.p50));
      const s = summary(rtts);
      rows.push(`| ${name} | ${rtts.length} | ${f(s.p50)} | ${f(added.mean)} | ${f(added.p50)} | ${f(added.p99)} | ${cpu} | ${late} |`);
    };
    process.stderr.write('bench-link: ping-pong through no link, a held echo, and the link (precise, timer)\n');
    row('no link', await pingPong(plain.address, PINGS), '-', '-');
    row(`no link, echo holds ${RTT_MS} ms`, await pingPong(held.address, PINGS), '-', '-');
    for (const wake of ['precise', 'timer']) {
      const l = await link(plain.address, ['--rtt', `${RTT_MS}ms`, '--wake', wake]);
      try {
        const before = await l.stats();
        const started = performance.now();
        const rtts = await pingPong(l.address, PINGS);
        const after = await l.stats();
        const cpu = `${f((100 * (after.cpuS - before.cpuS)) / ((performance.now() - started) / 1000), 1)}%`;
        const late = ['forward', 'reverse'] as const;
        row(`link --rtt ${RTT_MS}ms --wake ${wake}`, rtts, cpu, late.map((d) => `${f(after.directions[d].lateness.p50Ms, 3)}/${f(after.directions[d].lateness.p99Ms, 3)}`).join(', '));
      } finally {
        await l.stop();
      }
    }
    console.log(`## Added round trip, ${PINGS} one-byte ping-pongs each (no-link RTT p50 ${f(direct.p50, 3)} ms)\n`);
    console.log('| path | pings | RTT p50 ms | added mean ms | added p50 ms | added p99 ms | link CPU | lateness p50/p99 ms (fwd, rev) |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const r of rows) console.log(r);
    console.log();
  } finally {
    await Promise.all([plain.stop(), held.stop()]);
  }
}

async function throughputTable(): Promise<void> {
  console.log(`## Bulk throughput, one connection, ${BULK_SECONDS} s of data at the setting\n`);
  console.log('| link | MB | measured Mbit/s | vs setting | link CPU ms/MB | lateness p50/p90/p99 ms | saturated | calibrated Mbit/s | warning |');
  console.log('|---|---:|---:|---:|---:|---|---|---:|---|');
  const cases: Array<{ name: string; mbit: number; flags: string[] | undefined }> = [
    { name: '10mbit, rtt 40ms', mbit: 10, flags: ['--rtt', '40ms', '--bandwidth', '10mbit'] },
    { name: '100mbit, rtt 40ms', mbit: 100, flags: ['--rtt', '40ms', '--bandwidth', '100mbit'] },
    { name: '1gbit, rtt 40ms', mbit: 1000, flags: ['--rtt', '40ms', '--bandwidth', '1gbit'] },
    { name: 'unlimited, rtt 0', mbit: 0, flags: [] },
    { name: 'no link', mbit: 0, flags: undefined },
  ];
  for (const c of cases) {
    process.stderr.write(`bench-link: bulk ${c.name}\n`);
    const bytes = c.mbit > 0 ? Math.round((c.mbit * 1e6 * BULK_SECONDS) / 8) : 250_000_000;
    const mb = f(bytes / 1e6, 1);
    if (!c.flags) {
      const { mbps } = await bulk(async (port) => ({ host: '127.0.0.1', port }), bytes);
      console.log(`| ${c.name} | ${mb} | ${f(mbps, 1)} | - | - | - | - | - | - |`);
      continue;
    }
    const flags = c.flags;
    let l: Link | undefined;
    let cpuBefore = 0;
    try {
      const { mbps } = await bulk(async (port) => {
        l = await link({ host: '127.0.0.1', port }, flags);
        cpuBefore = (await l.stats()).cpuS;
        return l.address;
      }, bytes);
      const after = await l!.stats();
      const vs = c.mbit > 0 ? `${f((100 * mbps) / c.mbit, 1)}%` : '-';
      const cpuPerMb = (after.cpuS - cpuBefore) / (bytes / 1e6);
      const saturated = after.saturated ? `yes: ${after.reason}` : 'no';
      const late = after.directions.forward.lateness;
      const calibrated = after.calibration ? f(after.calibration.relayBps / 1e6, 0) : '-';
      console.log(
        `| ${c.name} | ${mb} | ${f(mbps, 1)} | ${vs} | ${f(cpuPerMb * 1000, 2)} | ${f(late.p50Ms, 3)}/${f(late.p90Ms, 3)}/${f(late.p99Ms, 3)} | ${saturated} | ${calibrated} | ${after.warning ? 'yes' : '-'} |`,
      );
    } finally {
      await l?.stop();
    }
  }
  console.log();
}

async function idleTable(): Promise<void> {
  const plain = await echo(0);
  const l = await link(plain.address, ['--rtt', `${RTT_MS}ms`, '--bandwidth', '100mbit']);
  try {
    // A few pings first so the helper thread and every path have run, a second to settle, then 3 s of nothing.
    await pingPong(l.address, 3);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = await l.stats();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await l.stats();
    const msPerS = ((after.cpuS - before.cpuS) * 1000) / 3;
    console.log(`## Idle: the link's CPU with a connection open and nothing sent: ${f(msPerS, 1)} ms per second (two /stats reads included)\n`);
  } finally {
    await Promise.all([l.stop(), plain.stop()]);
  }
}

async function main(): Promise<void> {
  await rttTable();
  await throughputTable();
  await idleTable();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-link: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
