// Settings come from flags and SLUICE_PROXY_* variables into one typed Config; every bad value names its
// flag or variable and what is allowed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, envName, helpText, parseConfig, type Config } from '../src/config.js';
import { FLAGS } from '../src/flags.js';
import type { Address } from '../src/address.js';

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
      idleServices: [],
      controlStreamWindow: 65_535,
      controlConnWindow: 1_048_576,
      upstreamProtocol: 'auto',
      engine: 'wire',
      parallelScavenge: false,
      streamWindow: 65_535,
      connWindow: 1_048_576,
      maxConcurrentStreams: 1024,
      maxResetsPerS: 100,
      maxFrameSize: 16_384,
      maxHeaderListSize: 16_384,
      keepaliveInterval: 10_000,
      keepaliveTimeout: 3000,
      maxSessionBufferedBytes: 256 * 2 ** 20,
      balancer: 'p2c',
      ewmaDecay: 10_000,
      ewmaDefaultRtt: 30,
      adaptive: false,
      failfast: 3000,
      queueCapacity: 10_000,
      idleEvict: 5000,
      requestTimeout: 0,
      connectTimeout: 1000,
      retries: 2,
      retryBudgetRatio: 0.2,
      retryBudgetMinPerS: 10,
      retryBudgetTtl: 10_000,
      retryBackoffBase: 25,
      retryBackoffMax: 250,
      retryBufferBytes: 65_536,
      retryableRoutes: [],
      h1PoolIdleTimeout: 3000,
      h1ReuseGuard: true,
      h1Reissue: true,
      absorbCancels: 0,
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
    refused(['--max-resets-per-s', '-1', ...EP], {}, '--max-resets-per-s', /from 0/);
    refused(['--max-frame-size', '16383', ...EP], {}, '--max-frame-size', /from 16384 to 16777215/);
    refused(['--max-header-list-size', '100', ...EP], {}, '--max-header-list-size', /from 1024/);
    refused(['--keepalive-interval', '10', ...EP], {}, '--keepalive-interval', /not a duration/);
    refused(['--keepalive-timeout', '0s', ...EP], {}, '--keepalive-timeout', /too short/);
    refused(['--max-session-buffered-bytes', '1MiB', ...EP], {}, '--max-session-buffered-bytes', /"1MiB"/);
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

  test('discovery: exactly one of --endpoints, --endpoints-file, --destination; --service exactly with --destination', () => {
    const file = config(['--endpoints-file', 'eps.txt']);
    assert.equal(file.endpointsFile, 'eps.txt');
    assert.deepEqual(file.endpoints, [], 'no static endpoints');
    const dst = config(['--destination', '127.0.0.1:8086', '--service', 'web']);
    assert.deepEqual([dst.destination, dst.destinationService, dst.endpoints], [{ host: '127.0.0.1', port: 8086 }, 'web', []]);
    refused([...EP, '--endpoints-file', 'eps.txt'], {}, '--endpoints, --endpoints-file', /exactly one discovery source/);
    refused(['--endpoints-file', 'eps.txt'], { SLUICE_PROXY_DESTINATION: '127.0.0.1:8086' }, '--endpoints-file, SLUICE_PROXY_DESTINATION', /exactly one/);
    refused(['--destination', '127.0.0.1:8086'], {}, '--service', /required with --destination/);
    refused([...EP, '--service', 'web'], {}, '--service', /only with --destination/);
    refused(['--destination', '127.0.0.1', '--service', 'web'], {}, '--destination', /HOST:PORT/);
    refused(['--destination', '127.0.0.1:8086', '--service', ' '], {}, '--service', /expected a service name/);
    refused(['--endpoints-file='], {}, '--endpoints-file', /expected a file path/);
    refused([], { SLUICE_PROXY_ENDPOINTS_FILE: '' }, 'SLUICE_PROXY_ENDPOINTS_FILE', /expected a file path/);
  });

  test('--parallel-scavenge: off by default, on|off by flag or variable', () => {
    assert.equal(config(EP).parallelScavenge, false);
    assert.equal(config([...EP, '--parallel-scavenge', 'on']).parallelScavenge, true);
    assert.equal(config(EP, { SLUICE_PROXY_PARALLEL_SCAVENGE: 'on' }).parallelScavenge, true);
    refused([...EP, '--parallel-scavenge', 'sometimes'], {}, '--parallel-scavenge', /"sometimes" is not allowed; expected on or off/);
  });

  test('connection-life switches (--h1-reuse-guard, --h1-reissue) take on|off', () => {
    const off = config([...EP, '--h1-reuse-guard', 'off', '--h1-reissue=off']);
    assert.deepEqual([off.h1ReuseGuard, off.h1Reissue], [false, false]);
    const on = config(EP, { SLUICE_PROXY_H1_REUSE_GUARD: 'on', SLUICE_PROXY_H1_REISSUE: 'true' });
    assert.deepEqual([on.h1ReuseGuard, on.h1Reissue], [true, true]);
    refused([...EP, '--h1-reuse-guard', 'maybe'], {}, '--h1-reuse-guard', /"maybe" is not allowed; expected on or off/);
    refused([...EP, '--h1-reissue'], {}, '--h1-reissue', /needs a value: on\|off/);
  });

  test('seed 000: --idle-services and the control windows, with --destination only', () => {
    const DST = ['--destination', '127.0.0.1:8086', '--service', 'green'];
    const c = config([...DST, '--idle-services', 'blue, red', '--control-stream-window', '1048576', '--control-conn-window', '65535']);
    assert.deepEqual([c.idleServices, c.controlStreamWindow, c.controlConnWindow], [['blue', 'red'], 1_048_576, 65_535]);
    refused([...EP, '--idle-services', 'blue'], {}, '--idle-services', /only with --destination/);
    refused([...DST, '--idle-services', 'blue,green'], {}, '--idle-services', /"green" is --service/);
    refused([...DST, '--idle-services', 'blue,,red'], {}, '--idle-services', /not a list of service names/);
    refused([...DST, '--idle-services', 'blue,blue'], {}, '--idle-services', /"blue" is listed twice/);
    refused([...DST, '--control-conn-window', '65534'], {}, '--control-conn-window', /from 65535/);
    refused([...DST, '--control-stream-window', '0'], {}, '--control-stream-window', /from 1 to 2147483647/);
    refused(DST, { SLUICE_PROXY_CONTROL_CONN_WINDOW: '16MiB' }, 'SLUICE_PROXY_CONTROL_CONN_WINDOW', /"16MiB"/);
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

// Config is derived from the flag table (flags.ts): a key's type is its parser's. These fail to compile, not at
// run time, if the derivation ever loses a key's type or makes a required key optional.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
export type ConfigTypeChecks = [
  Expect<Equal<Config['engine'], 'node' | 'wire'>>,
  Expect<Equal<Config['streamWindow'], number>>,
  Expect<Equal<Config['adaptive'], boolean>>,
  Expect<Equal<Config['endpoints'], Address[]>>,
  Expect<Equal<Config['retryableRoutes'], string[]>>,
  Expect<Equal<Config['destination'], Address | undefined>>,
  Expect<Equal<undefined extends Config['listen'] ? true : false, false>>,
  Expect<Equal<Record<never, never> extends Pick<Config, 'endpointsFile'> ? true : false, true>>,
];
