// The compiled entry point as the harness runs it: bad settings exit 2 naming the flag or variable, a good
// start prints a ready line and serves /ready, /live and /metrics, and SIGTERM/SIGINT stop it with exit 0.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { closeSession, connectH2, h1Backend, h1Request, metricValue } from './support.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const ENDPOINTS = ['--endpoints', '127.0.0.1:9001'];

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

describe('main: refuses bad settings at start with exit code 2', { timeout: 30_000 }, () => {
  const cases: [string, string[], Record<string, string>, RegExp[]][] = [
    ['a negative stream window', ['--stream-window', '-1', ...ENDPOINTS], {}, [/--stream-window/, /0 to 2147483647/]],
    ['a stream window above 2^31-1', ['--stream-window', '2147483648', ...ENDPOINTS], {}, [/--stream-window/]],
    ['a connection window below 65535', ['--conn-window', '65534', ...ENDPOINTS], {}, [/--conn-window/, /65535/]],
    ['an unknown balancer', ['--balancer', 'random', ...ENDPOINTS], {}, [/--balancer/, /"random"/, /p2c, round-robin, least-request/]],
    ['a value for the --adaptive switch', ['--adaptive=sometimes', ...ENDPOINTS], {}, [/--adaptive: "sometimes" is not allowed; expected a switch/]],
    ['a malformed HOST:PORT', ['--listen', '127.0.0.1', ...ENDPOINTS], {}, [/--listen/, /HOST:PORT/]],
    ['an endpoint on port 0', ['--endpoints', '127.0.0.1:9001,127.0.0.1:0'], {}, [/--endpoints/]],
    ['an unknown flag', ['--fail-slow', '3s', ...ENDPOINTS], {}, [/--fail-slow: unknown flag/]],
    ['no endpoints', [], {}, [/--endpoints: required/, /SLUICE_PROXY_ENDPOINTS/]],
    ['two discovery sources', [...ENDPOINTS, '--destination', '127.0.0.1:8086', '--service', 'web'], {}, [/--endpoints, --destination: give exactly one/]],
    ['an endpoints file that cannot be read', ['--endpoints-file', '/nonexistent/eps.txt'], {}, [/--endpoints-file: \/nonexistent\/eps\.txt: cannot read: ENOENT/]],
    ['a bad environment variable', ENDPOINTS, { SLUICE_PROXY_CONN_WINDOW: 'lots' }, [/SLUICE_PROXY_CONN_WINDOW/, /"lots"/]],
    ['an unknown SLUICE_PROXY_ variable', ENDPOINTS, { SLUICE_PROXY_STREAMWINDOW: '1' }, [/SLUICE_PROXY_STREAMWINDOW: unknown setting/]],
    ['a bad adaptive variable', ENDPOINTS, { SLUICE_PROXY_ADAPTIVE: 'sometimes' }, [/SLUICE_PROXY_ADAPTIVE: "sometimes" is not allowed/]],
  ];
  for (const [what, args, env, messages] of cases) {
    test(what, () => {
      const r = run(args, env);
      assert.equal(r.code, 2, r.stderr);
      for (const m of messages) assert.match(r.stderr, m);
      assert.equal(r.stdout, '', 'no ready line');
    });
  }

  test('--help lists every flag with its default, exit 0', () => {
    const r = run(['--help']);
    assert.equal(r.code, 0);
    for (const [flag, dflt] of [
      ['--listen', '127.0.0.1:4140'],
      ['--admin', '127.0.0.1:4191'],
      ['--endpoints', '(required)'],
      ['--upstream-protocol', 'auto'],
      ['--stream-window', '65535'],
      ['--conn-window', '1048576'],
      ['--max-concurrent-streams', '1024'],
      ['--balancer', 'p2c'],
      ['--ewma-decay', '10s'],
      ['--ewma-default-rtt', '30ms'],
      ['--adaptive', 'off'],
    ]) {
      assert.match(r.stdout, new RegExp(`${flag}\\b.*default: ${dflt.replace(/[()]/g, '\\$&')}`), flag);
    }
  });
});

describe('main: serves, reports ready, stops on a signal', { timeout: 20_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`ready line, /ready, /live, /metrics counting requests; ${signal} exits 0 with clients connected`, async (t) => {
      const backend = await h1Backend((_req, res) => res.end('ok'));
      t.after(() => backend.close());
      const child = spawn(
        process.execPath,
        [MAIN, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--endpoints', `127.0.0.1:${backend.port}`],
        // A flag wins over its variable: SLUICE_PROXY_LISTEN=nonsense would stop the proxy if it were read.
        { env: { PATH: process.env.PATH, SLUICE_PROXY_STREAM_WINDOW: '131072', SLUICE_PROXY_LISTEN: 'nonsense' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
      t.after(() => child.kill('SIGKILL'));
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const ready = JSON.parse(line) as { event: string; listen: string; admin: string; streamWindow: number };
      assert.equal(ready.event, 'ready');
      assert.equal(ready.streamWindow, 131_072, 'taken from SLUICE_PROXY_STREAM_WINDOW');
      const admin = `http://${ready.admin}`;
      const port = Number(ready.listen.split(':').pop());

      const readyRes = await fetch(`${admin}/ready`);
      assert.equal(readyRes.status, 200);
      assert.equal(await readyRes.text(), 'ready\n');
      assert.equal((await fetch(`${admin}/live`)).status, 200);

      for (let i = 0; i < 3; i++) assert.equal((await h1Request(port, { path: '/' })).body.toString(), 'ok');
      const metrics = await (await fetch(`${admin}/metrics`)).text();
      assert.equal(metricValue(metrics, 'sluice_proxy_requests_total', { protocol: 'h1', status_class: '2xx' }), 3);
      assert.equal(metricValue(metrics, 'sluice_proxy_request_duration_seconds_count', { protocol: 'h1' }), 3);
      assert.match(metrics, /^process_cpu_seconds_total \d/m);
      assert.match(metrics, /^process_resident_memory_bytes \d/m);

      // An idle h2 session and an idle keep-alive connection must not hold the stop up.
      const h2 = await connectH2(port);
      h2.on('error', () => {});
      t.after(() => closeSession(h2));
      child.kill(signal);
      const [code] = await exited;
      assert.equal(code, 0);
    });
  }
});
