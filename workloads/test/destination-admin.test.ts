// The control plane driven live (--admin): POST /steps applies steps in the script's shape at once and in order,
// and answers what it did; a bad list is refused whole, naming the step and key; GET /state shows services,
// endpoints, profiles and subscribers; the CLI's ready line names the admin address.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { startAdmin } from '../destination/admin.js';
import { DestinationServer } from '../destination/server.js';
import { DESTINATION_SERVICE, ECHO_LOADER_OPTIONS, destinationProtoPath } from '../proto/path.js';

const MAIN = fileURLToPath(new URL('../destination/main.js', import.meta.url));

interface Method {
  path: string;
  requestSerialize: (v: object) => Buffer;
  responseDeserialize: (b: Buffer) => unknown;
}
const methods = protoLoader.loadSync(destinationProtoPath(), ECHO_LOADER_OPTIONS)[DESTINATION_SERVICE] as unknown as Record<'Get' | 'GetProfile', Method>;

/** A gRPC client streaming `rpc` for `service`, counting its messages and keeping the Get updates in short form. */
function subscribe(port: number, rpc: 'Get' | 'GetProfile', service: string) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const m = methods[rpc];
  const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { path: service });
  const seen: string[] = [];
  call.on('data', (msg: { update?: string; add?: { addrs: { host: string; port: number }[] } }) => {
    seen.push(msg.update === 'add' ? `add ${msg.add!.addrs.map((a) => `${a.host}:${a.port}`).join(',')}` : (msg.update ?? 'profile'));
  });
  call.on('error', () => {});
  return {
    seen,
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), 'condition not reached in time');
}

async function post(port: number, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/steps`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('control-plane admin API', { timeout: 20_000 }, () => {
  it('POST /steps applies the steps at once, in order, and answers what it did; GET /state shows the result', async (t) => {
    const server = await DestinationServer.start();
    t.after(() => server.close(true));
    const admin = await startAdmin(server, '127.0.0.1', 0);
    t.after(() => admin.close());
    const green = subscribe(server.port, 'Get', 'green');
    const blue = subscribe(server.port, 'GetProfile', 'blue');
    t.after(() => [green, blue].forEach((s) => s.close()));
    await until(() => green.seen.length === 1 && blue.seen.length === 1); // no_endpoints, the empty profile

    const steps = [
      { service: 'green', set: ['127.0.0.1:9001', '127.0.0.1:9002'] },
      { service: 'green', remove: ['127.0.0.1:9001'] },
      { service: 'blue', profile: { routes: [{ name: 'items', method: 'GET', path: '/items/.*', timeout: '250ms' }] } },
      { service: 'blue', flood: { rate: 1000, for: '200ms', kind: 'profile' } },
    ];
    const { status, json } = await post(admin.port, JSON.stringify(steps));
    assert.equal(status, 200);
    assert.deepEqual(json.applied, [
      { service: 'green', set: ['127.0.0.1:9001', '127.0.0.1:9002'], subscribers: { get: 1, profile: 0 } },
      { service: 'green', remove: ['127.0.0.1:9001'], subscribers: { get: 1, profile: 0 } },
      { service: 'blue', profile: { routes: [{ name: 'items', method: 'GET', path: '/items/.*', timeout: '250ms' }] }, subscribers: { get: 0, profile: 1 } },
      { service: 'blue', flood: { rate: 1000, for: '200ms', kind: 'profile' }, subscribers: { get: 0, profile: 1 } },
    ]);
    await until(() => green.seen.length === 3);
    assert.deepEqual(green.seen.slice(1), ['add 127.0.0.1:9001,127.0.0.1:9002', 'remove']);
    await until(() => blue.seen.length === 2 + 200); // the profile, then 1000/s for 200 ms

    const state = (await (await fetch(`http://127.0.0.1:${admin.port}/state`)).json()) as Record<string, unknown>;
    assert.deepEqual(state, {
      services: {
        green: { endpoints: ['127.0.0.1:9002'], profile: { routes: [] }, subscribers: { get: 1, profile: 0 } },
        blue: {
          endpoints: [],
          profile: { routes: [{ name: 'items', method: 'GET', path: '/items/.*', retryable: false, timeout: '250ms' }] },
          subscribers: { get: 0, profile: 1 },
        },
      },
      subscriptions: { green: { get: 1, profile: 0, answeredBy: 'green' }, blue: { get: 0, profile: 1, answeredBy: 'blue' } },
    });
  });

  it('a bad list is refused whole, naming the step and key; at is not allowed; other paths and methods are refused', async (t) => {
    const server = await DestinationServer.start();
    t.after(() => server.close(true));
    const admin = await startAdmin(server, '127.0.0.1', 0);
    t.after(() => admin.close());

    const refused = async (body: string, status: number, error: RegExp): Promise<void> => {
      const res = await post(admin.port, body);
      assert.equal(res.status, status, body);
      assert.match(String(res.json.error), error);
    };
    await refused(JSON.stringify([{ service: 'green', set: ['127.0.0.1:9001'] }, { service: 'green', add: ['nope'] }]), 400, /steps: step 2\.add\[0\]: "nope" is not HOST:PORT/);
    assert.deepEqual(server.currentState().services, {}, 'nothing of a refused list was applied');
    await refused(JSON.stringify([{ at: '1s', service: 'green', 'no-endpoints': true }]), 400, /step 1\.at: not here: these steps apply at once/);
    await refused(JSON.stringify([{ service: 'green', flood: { rate: 0, for: '1s' } }]), 400, /step 1\.flood\.rate: expected updates per second/);
    await refused('{"steps": 3}', 400, /steps: expected a list of steps/);
    await refused('[{', 400, /steps: not JSON/);
    // The script's mapping form works too: a default service for its steps.
    const mapped = await post(admin.port, JSON.stringify({ service: 'web', steps: [{ 'no-endpoints': true }] }));
    assert.deepEqual(mapped.json.applied, [{ service: 'web', 'no-endpoints': true, subscribers: { get: 0, profile: 0 } }]);

    assert.equal((await fetch(`http://127.0.0.1:${admin.port}/steps`)).status, 405);
    assert.equal((await fetch(`http://127.0.0.1:${admin.port}/state`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`http://127.0.0.1:${admin.port}/nope`)).status, 404);
  });

  it('the CLI with --admin 127.0.0.1:0 names the admin address in its ready line; steps posted there reach subscribers', async (t) => {
    const child = spawn(process.execPath, [MAIN, '--port', '0', '--admin', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const ready = JSON.parse((await lines.next()).value as string) as { event: string; port: number; admin: string };
    assert.equal(ready.event, 'ready');
    const match = /^127\.0\.0\.1:(\d+)$/.exec(ready.admin);
    assert.ok(match && Number(match[1]) > 0, `admin address ${ready.admin}`);
    const sub = subscribe(ready.port, 'Get', 'green');
    t.after(() => sub.close());
    await until(() => sub.seen.length === 1);
    const res = await post(Number(match[1]), JSON.stringify([{ service: 'green', set: ['127.0.0.1:9001'] }]));
    assert.equal(res.status, 200);
    await until(() => sub.seen.includes('add 127.0.0.1:9001'));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);

    const bad = spawn(process.execPath, [MAIN, '--port', '0', '--admin', 'localhost'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    bad.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    assert.equal(await new Promise<number | null>((r) => bad.on('exit', (c) => r(c))), 2);
    assert.match(stderr, /--admin: "localhost" is not HOST:PORT/);
  });
});
