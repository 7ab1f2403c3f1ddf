// Settings come from flags and SLUICE_PROXY_* variables into one typed Config; every bad value names its
// flag or variable and what is allowed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, envName, helpText, parseConfig, type Config } from '../src/config.js';
import { FLAGS } from '../src/flags.js';

const EP = ['--endpoints', '127.0.0.1:9001'];

function config(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const r = parseConfig(argv, env);
  assert.equal(r.help, false);
  return (r as { config: Config }).config;
}

function refused(argv: string[], env: NodeJS.ProcessEnv, where: string, detail: RegExp): void {
  assert.throws(
    () => parseConfig(argv, env),
    (err: unknown) => err instanceof ConfigError && err.where === where && detail.test(err.message),
  );
}

describe('config', () => {
  test('defaults', () => {
    assert.deepEqual(config(EP), {
      listen: { host: '127.0.0.1', port: 4140 },
      admin: { host: '127.0.0.1', port: 4191 },
      endpoints: [{ host: '127.0.0.1', port: 9001 }],
      upstreamProtocol: 'auto',
      streamWindow: 65_535,
      connWindow: 1_048_576,
      maxConcurrentStreams: 1024,
      balancer: 'p2c',
      ewmaDecay: 10_000,
      ewmaDefaultRtt: 30,
      adaptive: false,
      h1PoolIdleTimeout: 3000,
      downstreamIdleTimeout: 3_600_000,
      maxConnectionDuration: 0,
      drainTimeout: 5000,
      delayedClose: 1000,
      maxRequestBodyBytes: 16 * 2 ** 20,
    });
  });

  test('flags as "--flag value" and "--flag=value"; endpoint lists with names and IPv6', () => {
    const c = config(['--endpoints=localhost:9001, [::1]:9002', '--stream-window', '0', '--conn-window=2147483647', '--upstream-protocol', 'h2']);
    assert.deepEqual(c.endpoints, [
      { host: 'localhost', port: 9001 },
      { host: '::1', port: 9002 },
    ]);
    assert.equal(c.streamWindow, 0);
    assert.equal(c.connWindow, 2 ** 31 - 1);
    assert.equal(c.upstreamProtocol, 'h2');
  });

  test('every flag has a SLUICE_PROXY_ variable, and a flag wins over it', () => {
    const env = { SLUICE_PROXY_ENDPOINTS: '10.0.0.1:80', SLUICE_PROXY_STREAM_WINDOW: '262144', SLUICE_PROXY_CONN_WINDOW: '4194304' };
    const fromEnv = config([], env);
    assert.deepEqual(fromEnv.endpoints, [{ host: '10.0.0.1', port: 80 }]);
    assert.equal(fromEnv.streamWindow, 262_144);
    assert.equal(config(['--stream-window', '1048576'], env).streamWindow, 1_048_576);
    assert.equal(envName('--max-concurrent-streams'), 'SLUICE_PROXY_MAX_CONCURRENT_STREAMS');
    assert.equal(config(EP, { SLUICE_PROXY_ADAPTIVE: 'false' }).adaptive, false);
    assert.equal(config([...EP, '--adaptive=false']).adaptive, false);
    assert.equal(config([...EP, '--adaptive']).adaptive, true);
    assert.equal(config(EP, { SLUICE_PROXY_ADAPTIVE: '1' }).adaptive, true);
  });

  test('bad values name the flag and what is allowed', () => {
    refused(['--stream-window', '-1', ...EP], {}, '--stream-window', /from 0 to 2147483647/);
    refused(['--stream-window', '2147483648', ...EP], {}, '--stream-window', /2\^31-1/);
    refused(['--stream-window', '64k', ...EP], {}, '--stream-window', /"64k"/);
    refused(['--conn-window', '65534', ...EP], {}, '--conn-window', /from 65535/);
    refused(['--max-concurrent-streams', '0', ...EP], {}, '--max-concurrent-streams', /from 1/);
    refused(['--balancer', 'random', ...EP], {}, '--balancer', /one of: p2c, round-robin, least-request/);
    refused(['--ewma-decay', '10', ...EP], {}, '--ewma-decay', /not a duration/);
    refused(['--ewma-decay', '0s', ...EP], {}, '--ewma-decay', /too short/);
    refused(['--upstream-protocol', 'h3', ...EP], {}, '--upstream-protocol', /auto, h1, h2/);
    refused(['--adaptive=maybe', ...EP], {}, '--adaptive', /"maybe" is not allowed; expected a switch/);
    refused(['--listen', 'localhost', ...EP], {}, '--listen', /HOST:PORT/);
    refused(['--admin', '127.0.0.1:65536', ...EP], {}, '--admin', /HOST:PORT/);
    refused(['--endpoints', '127.0.0.1:9001,'], {}, '--endpoints', /list of HOST:PORT/);
    refused(['--endpoints'], {}, '--endpoints', /needs a value/);
    refused(['--nope', ...EP], {}, '--nope', /unknown flag/);
    refused(['stray', ...EP], {}, 'stray', /unexpected argument/);
    refused([], {}, '--endpoints', /required/);
  });

  test('bad variables name the variable', () => {
    refused(EP, { SLUICE_PROXY_CONN_WINDOW: '1' }, 'SLUICE_PROXY_CONN_WINDOW', /from 65535/);
    refused(EP, { SLUICE_PROXY_ADAPTIVE: '2' }, 'SLUICE_PROXY_ADAPTIVE', /expected a switch/);
    refused(EP, { SLUICE_PROXY_BALANCE: 'round-robin' }, 'SLUICE_PROXY_BALANCE', /unknown setting/);
  });

  test('--help is recognised anywhere and the text covers every flag with default and reason', () => {
    assert.deepEqual(parseConfig(['--stream-window', '1', '--help']), { help: true });
    assert.deepEqual(parseConfig(['-h']), { help: true });
    const text = helpText();
    for (const spec of FLAGS) {
      assert.ok(text.includes(spec.flag), spec.flag);
      assert.ok(text.includes(spec.why), `${spec.flag} reason`);
    }
  });
});
