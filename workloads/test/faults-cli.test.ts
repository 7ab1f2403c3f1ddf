import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connectOutcome, h1Request, sleep } from './fault-clients.js';

const MAIN = fileURLToPath(new URL('../backends/main.js', import.meta.url));

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Ready {
  event: string;
  protocol: string;
  host: string;
  ports: number[];
  admin?: string;
}

/** Runs the CLI; `onReady` gets the ready line and the pid, and should signal the process. Killed after 10 s whatever happens. */
function run(argv: string[], onReady?: (ready: Ready, pid: number) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
    let stdout = '';
    let stderr = '';
    let announced = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!announced && stdout.includes('\n') && onReady) {
        announced = true;
        onReady(JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as Ready, child.pid!);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Polls `probe` every 50 ms until it returns true; the ms it took, or a failure after `limitMs`. */
async function waitFor(probe: () => Promise<boolean>, limitMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!(await probe())) {
    if (performance.now() - t0 > limitMs) assert.fail(`${what} not seen within ${limitMs} ms`);
    await sleep(50);
  }
  return performance.now() - t0;
}

describe('backends CLI with faults', { timeout: 30_000 }, () => {
  it('--down-at/--up-at: connects refused while down, answered again after up, on the same port', async () => {
    const downAt = 1000;
    const upAt = 2000;
    let timeline: { answeredFirst: boolean; refusedAfter: number; answeredAfter: number } | undefined;
    let failure: unknown;
    const exit = await run(['--endpoints', '2', '--slow-endpoints', '1', '--down-at', `${downAt}ms`, '--up-at', `${upAt}ms`], (ready, pid) => {
      const t0 = performance.now();
      const [faulty, healthy] = ready.ports as [number, number];
      void (async () => {
        const answeredFirst = (await h1Request(faulty)).status === 200;
        await waitFor(async () => (await connectOutcome(faulty, 50)) === 'ECONNREFUSED', downAt + 3000, 'the refusal');
        const refusedAfter = performance.now() - t0;
        assert.equal((await h1Request(healthy)).status, 200, 'the healthy endpoint stays up');
        await waitFor(() => h1Request(faulty).then((a) => a.status === 200, () => false), upAt + 3000, 'the answer after up');
        timeline = { answeredFirst, refusedAfter, answeredAfter: performance.now() - t0 };
      })()
        .catch((err: unknown) => (failure = err))
        .finally(() => process.kill(pid, 'SIGTERM'));
    });
    if (failure) throw failure;
    assert.equal(exit.code, 0, exit.stderr);
    assert.ok(timeline);
    assert.ok(timeline.answeredFirst);
    assert.ok(timeline.refusedAfter >= downAt * 0.9, `refused ${timeline.refusedAfter} ms after the ready line`);
    assert.ok(timeline.answeredAfter >= upAt * 0.9, `answered ${timeline.answeredAfter} ms after the ready line`);
    assert.match(exit.stderr, /faulty set \(endpoints 0\) down at 1000 ms/);
    assert.match(exit.stderr, /faulty set \(endpoints 0\) up at 2000 ms/);
  });

  it('--admin: the ready line names the admin listener, which answers GET /faults and POST /faults', async () => {
    let ready: Ready | undefined;
    let failure: unknown;
    const exit = await run(['--protocol', 'h2', '--endpoints', '2', '--admin', '127.0.0.1:0', '--fail-share', '0'], (line, pid) => {
      ready = line;
      void (async () => {
        const port = Number(line.admin!.split(':')[1]);
        const state = JSON.parse((await h1Request(port, { path: '/faults' })).body.toString()) as { endpoints: Array<{ port: number }> };
        assert.deepEqual(
          state.endpoints.map((e) => e.port),
          line.ports,
        );
        const down = await h1Request(port, { method: 'POST', path: '/faults' }, Buffer.from('{"endpoints": [1], "down": true}'));
        assert.equal(down.status, 200);
        assert.equal(await connectOutcome(line.ports[1]!), 'ECONNREFUSED');
      })()
        .catch((err: unknown) => (failure = err))
        .finally(() => process.kill(pid, 'SIGTERM'));
    });
    if (failure) throw failure;
    assert.equal(exit.code, 0, exit.stderr);
    assert.ok(ready);
    assert.match(ready.admin ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(exit.stdout, `${JSON.stringify({ event: 'ready', protocol: 'h2', host: '127.0.0.1', ports: ready.ports, admin: ready.admin })}\n`);
  });

  it('exits 2 on a combination that makes no sense, naming both flags, with nothing on stdout', async () => {
    const cases: Array<[string[], string, string]> = [
      [['--protocol', 'h2', '--idle-close', '1s'], '--idle-close', '--protocol'],
      [['--reset-share', '0.7', '--fail-share', '0.7'], '--reset-share', '--fail-share'],
      [['--endpoints', '2', '--slow-endpoints', '3', '--refuse', 'reset'], '--slow-endpoints', '--endpoints'],
    ];
    for (const [argv, first, second] of cases) {
      const exit = await run(argv);
      assert.equal(exit.code, 2, argv.join(' '));
      assert.ok(exit.stderr.includes(first) && exit.stderr.includes(second), exit.stderr);
      assert.equal(exit.stdout, '');
    }
  });
});
