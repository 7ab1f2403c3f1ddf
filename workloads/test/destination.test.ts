// The synthetic control plane: scripts parse (and bad ones are refused naming the step and key); a plain gRPC
// client sees the server's stream as linkerd's controller sends it (the whole state first, then add / remove /
// no_endpoints deltas, profiles whole); a script plays on time, floods at its rate; the CLI prints its ready
// line, plays a script file and stops on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { parseScript, runScript } from '../destination/script.js';
import { DestinationServer } from '../destination/server.js';
import { DESTINATION_SERVICE, ECHO_LOADER_OPTIONS, destinationProtoPath } from '../proto/path.js';

const MAIN = fileURLToPath(new URL('../destination/main.js', import.meta.url));

interface Update {
  update: 'add' | 'remove' | 'no_endpoints';
  add?: { addrs: { host: string; port: number }[] };
  remove?: { addrs: { host: string; port: number }[] };
  no_endpoints?: { exists: boolean };
}
interface Profile {
  routes: { name: string; condition: { path_regex: string; method: string }; is_retryable: boolean; timeout_ms: number }[];
}

const definition = protoLoader.loadSync(destinationProtoPath(), ECHO_LOADER_OPTIONS);
const methods = definition[DESTINATION_SERVICE] as unknown as Record<
  'Get' | 'GetProfile',
  { path: string; requestSerialize: (v: object) => Buffer; responseDeserialize: (b: Buffer) => unknown }
>;

/** Subscribes to `rpc` for `service`; collects the messages in a compact form until closed. */
function subscribe(port: number, rpc: 'Get' | 'GetProfile', service: string) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const m = methods[rpc];
  const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, { path: service });
  const seen: string[] = [];
  call.on('data', (msg: Update | Profile) => {
    if ('routes' in msg) seen.push(`profile ${msg.routes.map((r) => `${r.name}:${r.condition.method}:${r.condition.path_regex}:${r.is_retryable}:${r.timeout_ms}`).join(',')}`);
    else if (msg.update === 'no_endpoints') seen.push(`no_endpoints exists=${msg.no_endpoints!.exists}`);
    else seen.push(`${msg.update} ${msg[msg.update]!.addrs.map((a) => `${a.host}:${a.port}`).join(',')}`);
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

describe('control-plane script', () => {
  it('parses a timeline with every action, a default service and per-step services', () => {
    const steps = parseScript(`
service: web
steps:
  - { at: 0s, set: [127.0.0.1:9001, "[::1]:9002"] }
  - { at: 2s, add: 127.0.0.1:9003, service: api }
  - { at: 2.5s, remove: [127.0.0.1:9001] }
  - { at: 3s, no-endpoints: true }
  - at: 4s
    profile:
      routes:
        - { name: items, method: get, path: "/items/\\\\d+", retryable: true, timeout: 500ms }
        - { name: rest }
  - { at: 5s, flood: { rate: 200, for: 1s } }
  - { at: 6s, flood: { rate: 10, for: 100ms, kind: profile } }
`);
    assert.deepEqual(
      steps.map((s) => [s.atMs, s.service, s.action.kind]),
      [
        [0, 'web', 'set'],
        [2000, 'api', 'add'],
        [2500, 'web', 'remove'],
        [3000, 'web', 'no-endpoints'],
        [4000, 'web', 'profile'],
        [5000, 'web', 'flood'],
        [6000, 'web', 'flood'],
      ],
    );
    assert.deepEqual(steps[0]!.action, { kind: 'set', addrs: ['127.0.0.1:9001', '[::1]:9002'] });
    assert.deepEqual(steps[4]!.action, {
      kind: 'profile',
      profile: { routes: [{ name: 'items', method: 'GET', pathRegex: '/items/\\d+', retryable: true, timeoutMs: 500 }, { name: 'rest' }] },
    });
    assert.deepEqual(steps[6]!.action, { kind: 'flood', rate: 10, forMs: 100, what: 'profile' });
    // The list alone is a whole script, for any service.
    assert.deepEqual(parseScript('- { at: 0s, no-endpoints: true }\n')[0]!.service, '*');
  });

  it('refuses bad scripts naming the step and key', () => {
    const refused = (text: string, message: RegExp): void => assert.throws(() => parseScript(text, 's.yaml'), message);
    refused('- { add: [127.0.0.1:9001] }', /s\.yaml: step 1\.at: required/);
    refused('- { at: soon, add: [127.0.0.1:9001] }', /step 1\.at: "soon" is not a duration/);
    refused('- { at: 0s }', /step 1: expected exactly one of set, add, remove, no-endpoints, profile, flood; got none/);
    refused('- { at: 0s, add: [a:1], remove: [a:1] }', /got add, remove/);
    refused('- { at: 0s, add: [127.0.0.1:0] }', /step 1\.add\[0\]: "127\.0\.0\.1:0" is not HOST:PORT/);
    refused('- { at: 0s, add: [a:1] }\n- { at: 1s, flood: { rate: 0, for: 1s } }', /step 2\.flood\.rate: expected updates per second/);
    refused('- { at: 0s, profile: { routes: [{ name: x, path: "(" }] } }', /step 1\.profile\.routes\[0\]\.path: bad regular expression/);
    refused('- { at: 0s, profile: { routes: [{ name: x, retry: true }] } }', /routes\[0\]\.retry: unknown key/);
    refused('- { at: 0s, sett: [a:1] }', /step 1\.sett: unknown key/);
    refused('steps: 3', /s\.yaml: expected a list of steps/);
  });
});

describe('control-plane server', { timeout: 20_000 }, () => {
  it('streams the whole state first, then deltas; profiles whole; unknown services get no_endpoints{exists: false}', async (t) => {
    const server = await DestinationServer.start();
    t.after(() => server.close(true));
    server.setEndpoints('web', ['127.0.0.1:9001', '127.0.0.1:9002']);
    const web = subscribe(server.port, 'Get', 'web');
    const other = subscribe(server.port, 'Get', 'other');
    const profile = subscribe(server.port, 'GetProfile', 'web');
    t.after(() => [web, other, profile].forEach((s) => s.close()));
    await until(() => web.seen.length === 1 && other.seen.length === 1 && profile.seen.length === 1);
    assert.equal(server.subscribers('web'), 1);

    server.setEndpoints('web', ['127.0.0.1:9002', '127.0.0.1:9003']);
    server.add('web', ['127.0.0.1:9003']); // redundant: sent anyway
    server.remove('web', ['127.0.0.1:9002']);
    server.setEndpoints('web', []);
    server.resend('web');
    server.setProfile('web', { routes: [{ name: 'items', method: 'GET', pathRegex: '/items/.*', retryable: true, timeoutMs: 250 }] });
    await until(() => web.seen.length === 7 && profile.seen.length === 2);
    assert.deepEqual(web.seen, [
      'add 127.0.0.1:9001,127.0.0.1:9002',
      'remove 127.0.0.1:9001',
      'add 127.0.0.1:9003',
      'add 127.0.0.1:9003',
      'remove 127.0.0.1:9002',
      'no_endpoints exists=true',
      'no_endpoints exists=true',
    ]);
    assert.deepEqual(other.seen, ['no_endpoints exists=false'], 'another service hears nothing of web');
    assert.deepEqual(profile.seen, ['profile ', 'profile items:GET:/items/.*:true:250']);
  });

  it('a "*" state answers any service; a script plays on time and floods at its rate', async (t) => {
    const server = await DestinationServer.start();
    t.after(() => server.close(true));
    const steps = parseScript(`
- { at: 0s, set: [127.0.0.1:9001] }
- { at: 200ms, flood: { rate: 500, for: 200ms } }
- { at: 600ms, no-endpoints: true }
`);
    const sub = subscribe(server.port, 'Get', 'anything');
    t.after(() => sub.close());
    await until(() => sub.seen.length === 1);
    const started = Date.now();
    const script = runScript(server, steps);
    t.after(() => script.stop());
    await script.done;
    await until(() => sub.seen.at(-1) === 'no_endpoints exists=true');
    assert.ok(Date.now() - started >= 590, 'the last step waited for its time');
    assert.equal(sub.seen[0], 'no_endpoints exists=false');
    assert.equal(sub.seen[1], 'add 127.0.0.1:9001');
    const flood = sub.seen.slice(2, -1);
    assert.equal(flood.length, 100, '500/s for 200 ms');
    assert.ok(flood.every((u) => u === 'add 127.0.0.1:9001'), 'a flood resends the current set');
  });
});

describe('control-plane CLI', { timeout: 20_000 }, () => {
  it('prints the ready line, plays the script, exits 0 on SIGTERM; a bad script exits 2 naming it', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-destination-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const script = path.join(dir, 'roll.yaml');
    fs.writeFileSync(script, 'service: web\nsteps:\n  - { at: 0s, set: [127.0.0.1:9001] }\n  - { at: 100ms, add: [127.0.0.1:9002] }\n');
    const child = spawn(process.execPath, [MAIN, '--port', '0', '--script', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const ready = JSON.parse((await lines.next()).value as string) as { event: string; host: string; port: number };
    assert.equal(ready.event, 'ready');
    assert.ok(ready.port > 0);
    const sub = subscribe(ready.port, 'Get', 'web');
    t.after(() => sub.close());
    await until(() => sub.seen.includes('add 127.0.0.1:9002'));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);

    fs.writeFileSync(script, '- { at: 0s, add: [nope] }\n');
    const bad = spawn(process.execPath, [MAIN, '--port', '0', '--script', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    bad.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => bad.on('exit', (c) => r(c)));
    assert.equal(code, 2);
    assert.match(stderr, /--script .*roll\.yaml: step 1\.add\[0\]: "nope" is not HOST:PORT/);
  });
});
