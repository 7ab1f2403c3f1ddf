import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseBackendArgs, type BackendConfig } from '../backends/config.js';
import { helpText } from '../backends/help.js';

function config(argv: string[]): BackendConfig {
  const command = parseBackendArgs(argv);
  assert.equal(command.kind, 'run');
  return command.config;
}

const FAULT_FLAGS = [
  '--slow-endpoints',
  '--slow-latency',
  '--refuse',
  '--reset-share',
  '--reset-code',
  '--fail-share',
  '--fail-status',
  '--fail-grpc',
  '--idle-close',
  '--early-status',
  '--early-after-bytes',
  '--stall-read',
  '--down-at',
  '--up-at',
  '--admin',
];

describe('backend fault flags', () => {
  it('default to no fault, the faulty set being every endpoint', () => {
    const c = config(['--endpoints', '3', '--latency', '2ms']);
    assert.deepEqual(c.faults, {
      slowEndpoints: 3,
      slowLatency: { dist: 'fixed', ms: 2 },
      refuse: null,
      resetShare: 0,
      resetCode: 'INTERNAL_ERROR',
      failShare: 0,
      failStatus: 503,
      failGrpc: 'UNAVAILABLE',
      idleCloseMs: null,
      earlyStatus: null,
      earlyAfterBytes: 0,
      earlyLingerMs: 0,
      stallRead: false,
      downAtMs: null,
      upAtMs: null,
    });
    assert.equal(c.admin, null);
  });

  it('reads every fault flag', () => {
    const h1 = config([
      '--endpoints', '4', '--slow-endpoints', '2', '--slow-latency', '200ms', '--reset-share', '0.1', '--fail-share', '.25',
      '--fail-status', '502', '--idle-close', '1500ms', '--early-status', '413', '--early-after-bytes', '1024',
      '--down-at', '1s', '--up-at', '2.5s', '--admin', '127.0.0.1:0',
    ]);
    assert.deepEqual(h1.faults, {
      slowEndpoints: 2,
      slowLatency: { dist: 'fixed', ms: 200 },
      refuse: null,
      resetShare: 0.1,
      resetCode: 'INTERNAL_ERROR',
      failShare: 0.25,
      failStatus: 502,
      failGrpc: 'UNAVAILABLE',
      idleCloseMs: 1500,
      earlyStatus: 413,
      earlyAfterBytes: 1024,
      earlyLingerMs: 0,
      stallRead: false,
      downAtMs: 1000,
      upAtMs: 2500,
    });
    assert.deepEqual(h1.admin, { host: '127.0.0.1', port: 0 });
    const grpc = config(['--protocol', 'grpc', '--reset-share', '1', '--reset-code', 'refused_stream', '--fail-grpc', 'INTERNAL', '--admin', '[::1]:9901']);
    assert.equal(grpc.faults.resetCode, 'REFUSED_STREAM');
    assert.equal(grpc.faults.failGrpc, 'INTERNAL');
    assert.deepEqual(grpc.admin, { host: '::1', port: 9901 });
    assert.equal(config(['--protocol', 'h2', '--stall-read']).faults.stallRead, true);
    assert.equal(config(['--refuse', 'reset']).faults.refuse, 'reset');
  });

  it('refuses bad values, naming the flag', () => {
    const cases: Array<[string[], string]> = [
      [['--endpoints', '2', '--slow-endpoints', '0'], '--slow-endpoints'],
      [['--endpoints', '2', '--slow-endpoints', 'one'], '--slow-endpoints'],
      [['--slow-latency', 'slow'], '--slow-latency'],
      [['--refuse', 'drop'], '--refuse'],
      [['--reset-share', '1.5'], '--reset-share'],
      [['--reset-share', '-0.1'], '--reset-share'],
      [['--fail-share', 'half'], '--fail-share'],
      [['--protocol', 'h2', '--reset-share', '1', '--reset-code', 'OOPS'], '--reset-code'],
      [['--fail-share', '1', '--fail-status', '200'], '--fail-status'],
      [['--fail-share', '1', '--fail-status', '600'], '--fail-status'],
      [['--protocol', 'grpc', '--fail-share', '1', '--fail-grpc', 'SLOW'], '--fail-grpc'],
      [['--protocol', 'grpc', '--fail-share', '1', '--fail-grpc', 'OK'], '--fail-grpc'],
      [['--idle-close', '0ms'], '--idle-close'],
      [['--idle-close', '5'], '--idle-close'],
      [['--early-status', '99'], '--early-status'],
      [['--down-at', 'soon'], '--down-at'],
      [['--admin', '127.0.0.1'], '--admin'],
      [['--admin', '0.0.0.0:9000'], '--admin'],
      [['--admin', '127.0.0.1:70000'], '--admin'],
      [['--stall-read=yes'], '--stall-read'],
    ];
    for (const [argv, flag] of cases) {
      assert.throws(
        () => parseBackendArgs(argv),
        (err: unknown) => err instanceof ConfigError && err.message.includes(flag),
        argv.join(' '),
      );
    }
  });

  it('refuses combinations that make no sense, naming both flags', () => {
    const cases: Array<[string[], string, string]> = [
      [['--endpoints', '2', '--slow-endpoints', '3', '--fail-share', '1'], '--slow-endpoints', '--endpoints'],
      [['--protocol', 'h2', '--idle-close', '1s'], '--idle-close', '--protocol'],
      [['--protocol', 'grpc', '--idle-close', '1s'], '--idle-close', '--protocol'],
      [['--protocol', 'grpc', '--early-status', '413'], '--early-status', '--protocol'],
      [['--protocol', 'grpc', '--fail-share', '1', '--fail-status', '500'], '--fail-status', '--protocol'],
      [['--protocol', 'h2', '--fail-share', '1', '--fail-grpc', 'INTERNAL'], '--fail-grpc', '--protocol'],
      [['--reset-share', '1', '--reset-code', 'CANCEL'], '--reset-code', '--protocol'],
      [['--early-after-bytes', '10'], '--early-after-bytes', '--early-status'],
      [['--protocol', 'h2', '--reset-code', 'CANCEL'], '--reset-code', '--reset-share'],
      [['--fail-status', '500'], '--fail-status', '--fail-share'],
      [['--up-at', '2s'], '--up-at', '--down-at'],
      [['--down-at', '2s', '--up-at', '1s'], '--up-at', '--down-at'],
      [['--reset-share', '0.6', '--fail-share', '0.5'], '--reset-share', '--fail-share'],
      [['--stall-read', '--early-status', '413'], '--stall-read', '--early-status'],
      [['--refuse', 'closed', '--fail-share', '0.5'], '--refuse', '--fail-share'],
      [['--refuse', 'reset', '--slow-latency', '1s'], '--refuse', '--slow-latency'],
      [['--endpoints', '2', '--slow-endpoints', '1'], '--slow-endpoints', '--admin'],
    ];
    for (const [argv, first, second] of cases) {
      assert.throws(
        () => parseBackendArgs(argv),
        (err: unknown) => err instanceof ConfigError && err.flag === first && err.message.includes(second),
        argv.join(' '),
      );
    }
  });

  it('lets --admin stand in for a share to be set later, and a zero share carry its code', () => {
    config(['--protocol', 'h2', '--reset-code', 'CANCEL', '--admin', '127.0.0.1:0']);
    config(['--fail-status', '500', '--admin', 'localhost:0']);
    config(['--refuse', 'closed', '--fail-share', '0.5', '--admin', '127.0.0.1:0']);
    config(['--endpoints', '2', '--slow-endpoints', '1', '--admin', '127.0.0.1:0']);
    config(['--protocol', 'h2', '--reset-share', '0', '--reset-code', 'CANCEL']);
    config(['--refuse', 'reset', '--down-at', '1s']);
  });

  it('--help lists every fault flag and the admin API', () => {
    const text = helpText();
    for (const flag of FAULT_FLAGS) assert.ok(text.includes(flag), flag);
    for (const word of ['GET /faults', 'POST /faults', 'GET /stats', '"admin":"127.0.0.1:PORT"', 'ENHANCE_YOUR_CALM']) assert.ok(text.includes(word), word);
  });
});
