import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, parseBackendArgs, type BackendConfig } from '../backends/config.js';
import { helpText } from '../backends/help.js';

function config(argv: string[]): BackendConfig {
  const command = parseBackendArgs(argv);
  assert.equal(command.kind, 'run');
  return command.config;
}

describe('backend flags', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(config([]), {
      protocol: 'h1',
      endpoints: 1,
      basePort: 0,
      host: '127.0.0.1',
      latency: { dist: 'fixed', ms: 0 },
      responseBytes: 1024,
      streamWindow: 1_048_576,
      connWindow: 16_777_216,
      faults: config([]).faults,
      admin: null,
    });
  });

  it('reads every flag', () => {
    const argv = ['--protocol', 'grpc', '--endpoints=100', '--base-port', '20000', '--host', '::1', '--latency', 'bimodal:1ms:50ms:0.05'];
    argv.push('--response-bytes', '0', '--stream-window', '65535', '--conn-window', '4194304');
    assert.deepEqual(config(argv), {
      protocol: 'grpc',
      endpoints: 100,
      basePort: 20000,
      host: '::1',
      latency: { dist: 'bimodal', ms: 1, slowMs: 50, slowShare: 0.05 },
      responseBytes: 0,
      streamWindow: 65535,
      connWindow: 4_194_304,
      faults: config(argv).faults,
      admin: null,
    });
  });

  it('refuses bad values, naming the flag', () => {
    const cases: Array<[string[], string]> = [
      [['--protocol', 'h3'], '--protocol'],
      [['--endpoints', '0'], '--endpoints'],
      [['--endpoints', '1001'], '--endpoints'],
      [['--endpoints', 'ten'], '--endpoints'],
      [['--base-port', '70000'], '--base-port'],
      [['--base-port', '65535', '--endpoints', '2'], '--base-port'],
      [['--host', ''], '--host'],
      [['--latency', 'soon'], '--latency'],
      [['--response-bytes', '1.5'], '--response-bytes'],
      [['--response-bytes', String(64 * 1024 * 1024 + 1)], '--response-bytes'],
      [['--stream-window', String(2 ** 31)], '--stream-window'],
      [['--conn-window', '1000'], '--conn-window'],
      [['--bogus', '1'], '--bogus'],
      [['--latency'], '--latency'],
      [['stray'], 'stray'],
    ];
    for (const [argv, flag] of cases) {
      assert.throws(
        () => parseBackendArgs(argv),
        (err: unknown) => err instanceof ConfigError && err.message.includes(flag),
        argv.join(' '),
      );
    }
  });

  it('--help lists every flag with its default', () => {
    assert.deepEqual(parseBackendArgs(['--help']), { kind: 'help' });
    const text = helpText();
    for (const flag of ['--protocol', '--endpoints', '--base-port', '--host', '--latency', '--response-bytes', '--stream-window', '--conn-window']) {
      assert.ok(text.includes(flag), flag);
    }
    for (const value of Object.values(DEFAULTS)) assert.ok(text.includes(`(default ${value})`), String(value));
    assert.match(text, /never the flow-control\s+bottleneck/);
  });
});
