import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBandwidth, parseBandwidth } from '../link/bandwidth.js';
import { ConfigError, parseLinkArgs, type LinkConfig } from '../link/config.js';
import { QUEUE_HEADROOM_BYTES } from '../link/link-model.js';

function config(argv: string[]): LinkConfig {
  const command = parseLinkArgs(argv);
  assert.equal(command.kind, 'run');
  return command.config;
}

function refusal(argv: string[]): ConfigError {
  try {
    parseLinkArgs(argv);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail(`accepted ${argv.join(' ')}`);
}

const ROUTE = ['--listen', '127.0.0.1:0', '--to', '127.0.0.1:9001'];

describe('link bandwidth units', () => {
  it('reads bits per second as tc writes them', () => {
    assert.equal(parseBandwidth('500kbit'), 500_000);
    assert.equal(parseBandwidth('10mbit'), 10_000_000);
    assert.equal(parseBandwidth('1.5mbit'), 1_500_000);
    assert.equal(parseBandwidth('1gbit'), 1_000_000_000);
    assert.equal(parseBandwidth('100Mbit'), 100_000_000);
    assert.equal(parseBandwidth('0'), 0);
  });

  it('refuses bytes and bare numbers, with a hint for bps', () => {
    assert.throws(() => parseBandwidth('100mbps'), /bytes per second/);
    assert.throws(() => parseBandwidth('100'), /not a bandwidth/);
    assert.throws(() => parseBandwidth('fast'), /not a bandwidth/);
  });

  it('formats back', () => {
    assert.equal(formatBandwidth(100_000_000), '100mbit');
    assert.equal(formatBandwidth(1_500_000), '1.5mbit');
    assert.equal(formatBandwidth(0), 'unlimited');
  });
});

describe('link flags', () => {
  it('pairs --listen and --to in order', () => {
    const c = config(['--listen', '127.0.0.1:0', '--to', '127.0.0.1:9001', '--listen', '127.0.0.1:5000', '--to', 'localhost:9002']);
    assert.deepEqual(c.routes, [
      { listen: { host: '127.0.0.1', port: 0 }, to: { host: '127.0.0.1', port: 9001 } },
      { listen: { host: '127.0.0.1', port: 5000 }, to: { host: 'localhost', port: 9002 } },
    ]);
  });

  it('reads durations and bandwidth, and defaults the queue to bandwidth x rtt + 64 KiB', () => {
    const c = config([...ROUTE, '--rtt', '40ms', '--jitter', '1.5ms', '--bandwidth', '100mbit']);
    assert.deepEqual(c.settings, { rttMs: 40, jitterMs: 1.5, bandwidthBps: 100_000_000, queueLimitBytes: 500_000 + QUEUE_HEADROOM_BYTES });
    assert.match(c.queueRule, /bandwidth x rtt/);
    assert.deepEqual(c.admin, { host: '127.0.0.1', port: 0 });
    assert.equal(c.wake, 'precise');
  });

  it('defaults to a plain relay', () => {
    const c = config(ROUTE);
    assert.equal(c.settings.rttMs, 0);
    assert.equal(c.settings.bandwidthBps, 0);
    assert.equal(c.settings.jitterMs, 0);
  });

  it('takes --queue-bytes as given', () => {
    assert.equal(config([...ROUTE, '--queue-bytes', '200000']).settings.queueLimitBytes, 200_000);
  });

  it('names the flag of every bad value', () => {
    const cases: Array<[string[], string]> = [
      [['--to', '127.0.0.1:9001'], '--listen'],
      [['--listen', '127.0.0.1:0'], '--to'],
      [['--listen', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--to', '127.0.0.1:1'], '--to'],
      [['--listen', 'nowhere', '--to', '127.0.0.1:1'], '--listen'],
      [['--listen', '127.0.0.1:0', '--to', '127.0.0.1:0'], '--to'],
      [[...ROUTE, '--rtt', '40'], '--rtt'],
      [[...ROUTE, '--rtt', '40ms', '--jitter', '21ms'], '--jitter'],
      [[...ROUTE, '--bandwidth', '100mbps'], '--bandwidth'],
      [[...ROUTE, '--queue-bytes', '0'], '--queue-bytes'],
      [[...ROUTE, '--queue-bytes', 'lots'], '--queue-bytes'],
      [[...ROUTE, '--admin', '127.0.0.1'], '--admin'],
      [[...ROUTE, '--wake', 'soon'], '--wake'],
      [[...ROUTE, '--frobnicate'], '--frobnicate'],
    ];
    for (const [argv, flag] of cases) {
      const err = refusal(argv);
      assert.equal(err.flag, flag, argv.join(' '));
      assert.ok(err.message.startsWith(flag), err.message);
    }
  });

  it('--help', () => {
    assert.deepEqual(parseLinkArgs(['--help']), { kind: 'help' });
  });
});
