// The file source (--endpoints-file): the parser; the resolver reloading on change (in place, by rename, by the
// poll alone), keeping the last good set on a bad or missing file and naming the file; and through the proxy:
// /ready waits for the first endpoints, a removal stops traffic to the endpoint without failing the requests in
// flight on it, an addition takes traffic, a bad file changes nothing. Real files in a temp dir, real sockets.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../src/config.js';
import { FileResolver, parseEndpointsFile } from '../src/discovery/file.js';
import type { EndpointChange } from '../src/discovery/index.js';
import { burst, endpointCount, readyStatus, slowBackend, within } from './discovery-support.js';
import { closeSession, connectH2, metricValue, proxy, scrapeMetrics } from './support.js';

function tempFile(t: { after(fn: () => void): void }, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-endpoints-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'endpoints.txt');
  fs.writeFileSync(file, content);
  return file;
}

/** A resolver over `file` recording what it reports. */
async function watch(file: string, options: { watch?: boolean; pollMs?: number } = {}) {
  const changes: EndpointChange[] = [];
  const errors: string[] = [];
  const resolver = new FileResolver({ file, debounceMs: 20, ...options });
  await resolver.start({ change: (c) => changes.push(c), error: (e) => errors.push(e) });
  const names = (c: EndpointChange | undefined): string[] => (c?.endpoints ?? []).map((a) => `${a.host}:${a.port}`);
  return { resolver, changes, errors, last: () => names(changes.at(-1)) };
}

describe('endpoints file: parsing', () => {
  test('HOST:PORT lines with comments and blank lines, YAML list or endpoints: list; repeats once; empty is empty', () => {
    const names = (text: string): string[] => parseEndpointsFile(text, 'f').map((a) => `${a.host}:${a.port}`);
    assert.deepEqual(names('# pods\n127.0.0.1:9001\n\n  localhost:9002   # second\n127.0.0.1:9001\n'), ['127.0.0.1:9001', 'localhost:9002']);
    assert.deepEqual(names('- 127.0.0.1:9001\n- "[::1]:9002"\n'), ['127.0.0.1:9001', '::1:9002']);
    assert.deepEqual(names('endpoints:\n  - 10.0.0.1:80\n'), ['10.0.0.1:80']);
    assert.deepEqual(names('[::1]:9001\n'), ['::1:9001']);
    assert.deepEqual(names(''), []);
    assert.deepEqual(names('# nothing yet\n'), []);
  });

  test('errors name the file and the line or item', () => {
    assert.throws(() => parseEndpointsFile('127.0.0.1:9001\n127.0.0.1:0\n', 'eps.txt'), /eps\.txt: line 2: "127\.0\.0\.1:0" is not HOST:PORT/);
    assert.throws(() => parseEndpointsFile('127.0.0.1:9001\nnonsense here\n', 'eps.txt'), /eps\.txt: line 2: "nonsense here"/);
    assert.throws(() => parseEndpointsFile('- 127.0.0.1:9001\n- 7\n', 'eps.yaml'), /eps\.yaml: item 2: 7 is not HOST:PORT/);
    assert.throws(() => parseEndpointsFile('pods: [127.0.0.1:9001]\n', 'eps.yaml'), /eps\.yaml: a YAML mapping needs an "endpoints:" list/);
  });
});

describe('endpoints file: the resolver', { timeout: 20_000 }, () => {
  test('reloads on change, in place and by rename; reports the kinds; an unchanged rewrite is no update', async (t) => {
    const file = tempFile(t, '127.0.0.1:9001\n127.0.0.1:9002\n');
    const w = await watch(file);
    t.after(() => w.resolver.close());
    assert.deepEqual(w.changes.map((c) => c.kinds), [['add']]);
    assert.deepEqual(w.last(), ['127.0.0.1:9001', '127.0.0.1:9002']);

    fs.writeFileSync(file, '127.0.0.1:9002\n127.0.0.1:9003\n');
    assert.ok((await within(3000, () => w.changes.length === 2)) >= 0, 'in-place rewrite seen');
    assert.deepEqual(w.changes[1]!.kinds, ['add', 'remove']);
    assert.deepEqual(w.last(), ['127.0.0.1:9002', '127.0.0.1:9003']);

    // Written elsewhere and renamed over it, as careful writers (and kubectl's configmap mounts) do.
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, '127.0.0.1:9003\n');
    fs.renameSync(tmp, file);
    assert.ok((await within(3000, () => w.changes.length === 3)) >= 0, 'rename seen');
    assert.deepEqual(w.changes[2]!.kinds, ['remove']);
    assert.deepEqual(w.last(), ['127.0.0.1:9003']);

    fs.writeFileSync(file, '# same set\n127.0.0.1:9003\n');
    fs.writeFileSync(file, '');
    assert.ok((await within(3000, () => w.changes.length === 4)) >= 0);
    assert.deepEqual(w.changes[3]!.kinds, ['no-endpoints']);
    assert.deepEqual(w.errors, []);
  });

  test('a bad or missing file keeps the last good set and names the file, once per error; a good one is applied again', async (t) => {
    const file = tempFile(t, '127.0.0.1:9001\n');
    const w = await watch(file, { pollMs: 50 });
    t.after(() => w.resolver.close());

    fs.writeFileSync(file, '127.0.0.1:9001\n127.0.0.1:99999\n');
    assert.ok((await within(3000, () => w.errors.length === 1)) >= 0, 'error reported');
    assert.match(w.errors[0]!, new RegExp(`${file.replace(/[.]/g, '\\.')}: line 2: "127\\.0\\.0\\.1:99999" is not HOST:PORT.*keeping the last good set \\(1 endpoints\\)`));
    assert.equal(w.changes.length, 1, 'no change applied');

    fs.rmSync(file);
    assert.ok((await within(3000, () => w.errors.length === 2)) >= 0, 'missing file reported');
    assert.match(w.errors[1]!, /cannot read: ENOENT; keeping the last good set/);
    await new Promise((r) => setTimeout(r, 300)); // several polls of the missing file
    assert.equal(w.errors.length, 2, 'reported once, not at every poll');

    fs.writeFileSync(file, '127.0.0.1:9005\n');
    assert.ok((await within(3000, () => w.changes.length === 2)) >= 0, 'good file applied');
    assert.deepEqual(w.last(), ['127.0.0.1:9005']);
  });

  test('the poll alone (no fs.watch) sees a change', async (t) => {
    const file = tempFile(t, '127.0.0.1:9001\n');
    const w = await watch(file, { watch: false, pollMs: 50 });
    t.after(() => w.resolver.close());
    // A different size, so the change shows in the stat even on a filesystem with coarse mtimes.
    fs.writeFileSync(file, '127.0.0.1:9001\n127.0.0.1:9002\n');
    assert.ok((await within(3000, () => w.changes.length === 2)) >= 0);
    assert.deepEqual(w.last(), ['127.0.0.1:9001', '127.0.0.1:9002']);
  });

  test('a file that cannot be read or parsed at start is a ConfigError naming --endpoints-file and the file', async (t) => {
    const file = tempFile(t, 'not an endpoint\n');
    const resolver = new FileResolver({ file });
    const events = { change: () => {}, error: () => {} };
    await assert.rejects(resolver.start(events), (e: unknown) => e instanceof ConfigError && e.where === '--endpoints-file' && /line 1/.test(e.message));
    resolver.close();
    const missing = new FileResolver({ file: `${file}.missing` });
    await assert.rejects(missing.start(events), (e: unknown) => e instanceof ConfigError && /\.missing: cannot read: ENOENT/.test(e.message));
    missing.close();
  });
});

describe('endpoints file through the proxy', { timeout: 30_000 }, () => {
  test('remove: no new requests reach the endpoint, those in flight on it succeed; add: the new one takes traffic', async (t) => {
    const [a, b, c] = await Promise.all([slowBackend(300), slowBackend(300), slowBackend(300)]);
    t.after(() => Promise.all([a.close(), b.close(), c.close()]));
    const file = tempFile(t, `${a.address}\n${b.address}\n`);
    const p = await proxy(['--endpoints-file', file, '--balancer', 'least-request']);
    t.after(() => p.stop(0));
    assert.equal(await readyStatus(p.admin.port), 200, 'ready at once: the file had endpoints');
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));

    // 8 requests in flight (least-request spreads them over both), then b is removed while they are.
    const inFlight = burst(client, 8);
    await within(2000, () => a.hits + b.hits === 8);
    assert.ok(b.hits > 0, `b has requests in flight (${b.hits})`);
    fs.writeFileSync(file, `${a.address}\n`);
    const applied = await within(3000, async () => (await endpointCount(p.admin.port)) === 1);
    t.diagnostic(`removal applied ${applied} ms after the file was written`);
    assert.ok(applied >= 0 && applied < 1000, `removal applied within a second (${applied} ms)`);
    assert.deepEqual(await inFlight, Array(8).fill(200), 'every request in flight at the removal succeeded');

    const bBefore = b.hits;
    assert.deepEqual(await burst(client, 8), Array(8).fill(200));
    assert.equal(b.hits, bBefore, 'no request reached the removed endpoint');

    // Add c: it takes traffic (least-request: the idle endpoint gets the next requests).
    fs.writeFileSync(file, `${a.address}\n${c.address}\n`);
    assert.ok((await within(3000, async () => (await endpointCount(p.admin.port)) === 2)) >= 0);
    assert.deepEqual(await burst(client, 8), Array(8).fill(200));
    assert.ok(c.hits > 0, `the added endpoint got ${c.hits} of 8`);

    // A bad file changes nothing and is counted.
    fs.writeFileSync(file, 'garbage\n');
    const metrics = async () => scrapeMetrics(p.admin.port);
    assert.ok((await within(3000, async () => metricValue(await metrics(), 'sluice_proxy_discovery_errors_total', { source: 'file' }) === 1)) >= 0);
    assert.equal(await endpointCount(p.admin.port), 2);
    assert.deepEqual(await burst(client, 4), Array(4).fill(200));
    const text = await metrics();
    assert.equal(metricValue(text, 'sluice_proxy_discovery_updates_total', { source: 'file', kind: 'add' }), 2);
    assert.equal(metricValue(text, 'sluice_proxy_discovery_updates_total', { source: 'file', kind: 'remove' }), 1);
  });

  test('/ready is 503 until the file names the first endpoints', async (t) => {
    const a = await slowBackend(0);
    t.after(() => a.close());
    const file = tempFile(t, '# no endpoints yet\n');
    const p = await proxy(['--endpoints-file', file]);
    t.after(() => p.stop(0));
    assert.equal(await readyStatus(p.admin.port), 503);
    fs.writeFileSync(file, `${a.address}\n`);
    assert.ok((await within(3000, async () => (await readyStatus(p.admin.port)) === 200)) >= 0, '/ready turns 200');
    const client = await connectH2(p.listen.port);
    t.after(() => closeSession(client));
    assert.deepEqual(await burst(client, 2), [200, 200]);
  });
});
