import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../backends/main.js', import.meta.url));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onReady` sees the first stdout line and may signal the process. Kills it after 8 s whatever happens. */
function run(argv: string[], onReady?: (line: string, pid: number) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 8000);
    let stdout = '';
    let stderr = '';
    let announced = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!announced && stdout.includes('\n') && onReady) {
        announced = true;
        onReady(stdout.slice(0, stdout.indexOf('\n')), child.pid!);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('backends CLI', { timeout: 30_000 }, () => {
  for (const protocol of ['h1', 'h2', 'grpc'] as const) {
    it(`${protocol}: prints one ready line with N ports, exits 0 on SIGTERM, leaves nothing listening`, async () => {
      let ready: { event: string; protocol: string; host: string; ports: number[] } | undefined;
      let listeningBeforeStop: boolean[] = [];
      const exit = await run(['--protocol', protocol, '--endpoints', '3', '--latency', '1ms'], (line, pid) => {
        ready = JSON.parse(line);
        void Promise.all(ready!.ports.map(accepts)).then((up) => {
          listeningBeforeStop = up;
          process.kill(pid, 'SIGTERM');
        });
      });
      assert.equal(exit.code, 0, exit.stderr);
      assert.equal(exit.signal, null);
      assert.ok(ready);
      assert.equal(exit.stdout, `${JSON.stringify({ event: 'ready', protocol, host: '127.0.0.1', ports: ready.ports })}\n`);
      assert.equal(ready.ports.length, 3);
      assert.equal(new Set(ready.ports).size, 3);
      assert.deepEqual(listeningBeforeStop, [true, true, true]);
      for (const port of ready.ports) assert.equal(await accepts(port), false, `port ${port} still listening`);
    });
  }

  it('SIGINT also exits 0', async () => {
    const exit = await run(['--endpoints', '1'], (_line, pid) => process.kill(pid, 'SIGINT'));
    assert.equal(exit.code, 0, exit.stderr);
  });

  it('exits 2 on a bad flag, naming it, with nothing on stdout', async () => {
    const cases: Array<[string[], string]> = [
      [['--protocol', 'quic'], '--protocol'],
      [['--endpoints', '0'], '--endpoints'],
      [['--latency', 'uniform:9ms:1ms'], '--latency'],
      [['--conn-window', '10'], '--conn-window'],
      [['--frobnicate'], '--frobnicate'],
    ];
    for (const [argv, flag] of cases) {
      const exit = await run(argv);
      assert.equal(exit.code, 2, argv.join(' '));
      assert.ok(exit.stderr.includes(flag), exit.stderr);
      assert.equal(exit.stdout, '');
    }
  });

  it('--help lists the flags and exits 0', async () => {
    const exit = await run(['--help']);
    assert.equal(exit.code, 0);
    for (const flag of ['--protocol', '--endpoints', '--base-port', '--host', '--latency', '--response-bytes', '--stream-window', '--conn-window']) {
      assert.ok(exit.stdout.includes(flag), flag);
    }
  });
});
