// The nghttpx driver's translation of a cell, pure: the exact flags for fixture cells, and the reason for
// every cell it cannot run as the cell says (never a setting silently dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AXIS_DEFAULTS, type CellParams } from '../matrix/axes.js';
import type { ProxyCellSpec } from '../proxies/driver.js';
import { Supervisor } from '../orchestrator/supervisor.js';
import { createNghttpxDriver, findNghttpx, nghttpxAddress, nghttpxDriver, nghttpxOptionsFromEnv, NGHTTPX_MISSING, NGHTTPX_WORKERS_ENV } from '../proxies/nghttpx.js';

const MIB = 1024 * 1024;
const driver = createNghttpxDriver(() => ({ workers: 1 }));
const NO_SCENARIO = { discovery: false, extraFlags: [] };

function spec(upstreamProtocol: 'h1' | 'h2', params: Partial<CellParams> = {}): ProxyCellSpec {
  return {
    params: { ...AXIS_DEFAULTS, streamWindow: 65_535, connWindow: MIB, endpoints: 2, ...params },
    listen: '127.0.0.1:4140',
    admin: '127.0.0.1:4141',
    discovery: { endpoints: ['127.0.0.1:9001', '127.0.0.1:9002'] },
    upstreamProtocol,
    extraFlags: [],
    workDir: '/tmp/sluice-cell',
  };
}

const COMMON_TAIL = [
  '--frontend-http2-window-size=65535',
  '--frontend-http2-connection-window-size=1048576',
  '--backend-http2-window-size=65535',
  '--backend-http2-connection-window-size=1048576',
  '--frontend-http2-max-concurrent-streams=1024',
  '--backend-http2-max-concurrent-streams=1024',
  '--backend-keep-alive-timeout=3000ms',
  '--frontend-http2-read-timeout=1h',
  '--frontend-read-timeout=1h',
  '--frontend-write-timeout=1h',
  '--frontend-keep-alive-timeout=1h',
  '--stream-write-timeout=0',
  '--backend-read-timeout=1h',
  '--backend-write-timeout=1h',
  '--errorlog-file=/dev/stderr',
  '--log-level=WARN',
];
const HEAD = ['nghttpx', '--conf=/dev/null', '--single-process', '--workers=1', '--no-ocsp', '--frontend=127.0.0.1,4140;no-tls'];

test('an h2 cell: two h2c backends in one group, the windows on both sides, 1024 streams, long timeouts', () => {
  assert.deepEqual(driver.configure(spec('h2')), {
    command: [...HEAD, '--backend=127.0.0.1,9001;;proto=h2', '--backend=127.0.0.1,9002;;proto=h2', ...COMMON_TAIL],
  });
});

test('an h1 cell: HTTP/1.1 backends, the same windows (the frontend still speaks h2c to h2 clients)', () => {
  assert.deepEqual(driver.configure(spec('h1')), {
    command: [...HEAD, '--backend=127.0.0.1,9001;;proto=http/1.1', '--backend=127.0.0.1,9002;;proto=http/1.1', ...COMMON_TAIL],
  });
});

test('the cell sets the windows, the HTTP/1.1 keep-alive timeout and (by option) the workers', () => {
  const four = createNghttpxDriver(() => ({ workers: 4 }));
  const args = four.configure(spec('h2', { streamWindow: 16 * MIB, connWindow: 2 ** 31 - 1, h1PoolIdleTimeoutMs: 0 })).command;
  assert.ok(args.includes('--workers=4'));
  assert.ok(args.includes(`--frontend-http2-window-size=${16 * MIB}`) && args.includes(`--backend-http2-window-size=${16 * MIB}`));
  assert.ok(args.includes('--frontend-http2-connection-window-size=2147483647') && args.includes('--backend-http2-connection-window-size=2147483647'));
  assert.ok(args.includes('--backend-keep-alive-timeout=0ms'), 'ours: 0 = never; nghttpx arms no timer for 0');
});

test('addresses: HOST:PORT and [IPv6]:PORT become nghttpx HOST,PORT', () => {
  assert.equal(nghttpxAddress('127.0.0.1:9001'), '127.0.0.1,9001');
  assert.equal(nghttpxAddress('[::1]:9001'), '::1,9001');
  assert.equal(nghttpxAddress('localhost:80'), 'localhost,80');
  assert.throws(() => nghttpxAddress('9001'), /not a HOST:PORT/);
});

test('workers: SLUICE_NGHTTPX_WORKERS, 1 when unset, refused when not a count', () => {
  assert.deepEqual(nghttpxOptionsFromEnv({}), { workers: 1 });
  assert.deepEqual(nghttpxOptionsFromEnv({ [NGHTTPX_WORKERS_ENV]: '3' }), { workers: 3 });
  for (const bad of ['0', '-1', '1.5', 'two', '257']) {
    assert.throws(() => nghttpxOptionsFromEnv({ [NGHTTPX_WORKERS_ENV]: bad }), /SLUICE_NGHTTPX_WORKERS must be a whole number/, bad);
  }
  assert.equal(nghttpxDriver.name, 'nghttpx');
});

test('unsupported: adaptive windows, each sluice-only axis off its default, the control plane, sluice flags', () => {
  assert.equal(driver.unsupported(spec('h2').params, NO_SCENARIO), undefined);
  // The translated settings at any value are fine.
  assert.equal(driver.unsupported({ ...AXIS_DEFAULTS, streamWindow: 0, connWindow: 2 ** 31 - 1, h1PoolIdleTimeoutMs: 0 }, NO_SCENARIO), undefined);
  assert.equal(driver.unsupported({ ...AXIS_DEFAULTS, adaptive: true }, NO_SCENARIO), 'nghttpx: no adaptive flow control');
  const offDefault: [keyof CellParams, CellParams[keyof CellParams]][] = [
    ['h1ReuseGuard', false],
    ['h1Reissue', false],
    ['delayedCloseMs', 0],
    ['failfastMs', 100],
    ['absorbCancels', 64],
    ['controlConnWindow', 65_535],
  ];
  for (const [axis, value] of offDefault) {
    const why = driver.unsupported({ ...AXIS_DEFAULTS, [axis]: value }, NO_SCENARIO);
    assert.match(why ?? '', new RegExp(`^nghttpx: cannot set ${axis}=${String(value)} \\(sluice only: .+; nghttpx has no switch for it\\)$`), axis);
  }
  assert.equal(
    driver.unsupported(AXIS_DEFAULTS, { discovery: true, extraFlags: [] }),
    'nghttpx: this scenario runs on sluice only: it needs the control plane (Destination discovery)',
  );
  assert.equal(
    driver.unsupported(AXIS_DEFAULTS, { discovery: false, extraFlags: ['--max-resets-per-s', '100'] }),
    'nghttpx: this scenario runs on sluice only: it needs its flags for sluice (--max-resets-per-s 100)',
  );
});

test('configure refuses a cell it cannot run, rather than dropping the setting', () => {
  assert.throws(() => driver.configure(spec('h2', { adaptive: true })), /no adaptive flow control/);
  assert.throws(() => driver.configure({ ...spec('h2'), discovery: { destination: '127.0.0.1:8086', service: 'svc' } }), /control plane/);
  assert.throws(() => driver.configure({ ...spec('h2'), extraFlags: ['--retries', '0'] }), /--retries 0/);
});

test('without nghttpx, version() and start() reject naming the Debian package', async () => {
  const missing = createNghttpxDriver(() => ({ workers: 1 }), () => undefined);
  const message = "nghttpx is not installed: apt-get install -y nghttp2-proxy (Debian's nghttp2-proxy package)";
  assert.equal(NGHTTPX_MISSING, message);
  await assert.rejects(missing.version(), { message });
  await assert.rejects(missing.start(new Supervisor(), spec('h2')), { message });
});

test('findNghttpx: PATH first, then the sbin folders a PATH may lack', () => {
  const found = findNghttpx({ PATH: '' });
  if (found !== undefined) assert.match(found, /^\/(usr\/(local\/)?)?sbin\/nghttpx$/);
  assert.equal(findNghttpx({ PATH: '/nonexistent' }), found);
});
