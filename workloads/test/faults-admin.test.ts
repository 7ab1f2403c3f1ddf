import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createFaultAdmin } from '../backends/fault-admin.js';
import type { FaultState } from '../backends/fault-control.js';
import { start as startH1 } from '../backends/h1.js';
import { start as startH2 } from '../backends/h2.js';
import type { RunningBackends } from '../backends/types.js';
import { config, connectOutcome, h1Request, h2Connect, h2Request, rawConnect, rawEnd, until } from './fault-clients.js';

interface Admin {
  get(path: string): Promise<{ status: number; body: unknown }>;
  post(path: string, body: string): Promise<{ status: number; body: unknown }>;
}

/** Backends and their admin listener on an ephemeral loopback port, both closed whatever happens. */
async function withAdmin(
  start: typeof startH1,
  argv: string[],
  body: (backends: RunningBackends, admin: Admin) => Promise<void>,
): Promise<void> {
  const backends = await start(config(argv));
  const server = createFaultAdmin(backends.faults, backends.ports.length);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const call = (method: string, path: string, text?: string) =>
    h1Request(port, { method, path, headers: { 'content-type': 'application/json' } }, text === undefined ? undefined : Buffer.from(text)).then(
      (answer) => ({ status: answer.status, body: JSON.parse(answer.body.toString()) as unknown }),
    );
  try {
    await body(backends, { get: (path) => call('GET', path), post: (path, text) => call('POST', path, text) });
  } finally {
    server.close();
    server.closeAllConnections();
    await backends.close();
  }
}

describe('the fault admin API', { timeout: 20_000 }, () => {
  it('POST /faults {down: true} takes the faulty set down (listeners closed, connections reset), {down: false} brings it back', async () => {
    await withAdmin(startH1, ['--endpoints', '2', '--slow-endpoints', '1', '--admin', '127.0.0.1:0'], async (backends, admin) => {
      const [faulty, healthy] = backends.ports as [number, number];
      // A keep-alive connection that is open when the endpoint goes down.
      const socket = await rawConnect(faulty);
      const ended = rawEnd(socket, []);
      socket.write('GET / HTTP/1.1\r\nHost: backend\r\n\r\n');
      await until(socket, (text) => text.includes('\r\n\r\n'), 2000);

      const down = await admin.post('/faults', '{"down": true}');
      assert.equal(down.status, 200);
      const state = down.body as FaultState;
      assert.deepEqual(
        state.endpoints.map((e) => [e.index, e.down, e.listening]),
        [
          [0, true, false],
          [1, false, true],
        ],
      );
      assert.equal((await ended).error, 'ECONNRESET', 'the open connection was reset');
      assert.equal(await connectOutcome(faulty), 'ECONNREFUSED');
      assert.equal((await h1Request(healthy)).status, 200);

      const up = await admin.post('/faults', '{"down": false}');
      assert.equal(up.status, 200);
      assert.equal((up.body as FaultState).endpoints[0]!.listening, true);
      assert.equal((await h1Request(faulty)).status, 200, 'answered again, on the same port');

      const stats = (await admin.get('/stats')).body as { endpoints: Array<{ port: number; connections: Record<string, number>; requests: { total: number; answered: Record<string, number> } }> };
      assert.equal(stats.endpoints[0]!.port, faulty);
      assert.equal(stats.endpoints[0]!.connections.accepted, 2);
      assert.equal(stats.endpoints[0]!.connections.dropped, 1);
      assert.equal(stats.endpoints[0]!.requests.total, 2);
      assert.deepEqual(stats.endpoints[0]!.requests.answered, { 200: 2 });
      assert.deepEqual(stats.endpoints[1]!.requests.answered, { 200: 1 });
      socket.destroy();
    });
  });

  it('changes shares, latency, refusal and stall-read of chosen endpoints at once; GET /faults shows them', async () => {
    await withAdmin(startH2, ['--protocol', 'h2', '--endpoints', '3', '--admin', '127.0.0.1:0'], async (backends, admin) => {
      const change = await admin.post('/faults', JSON.stringify({ endpoints: [1], failShare: 1, latency: '5ms' }));
      assert.equal(change.status, 200);
      const session = await h2Connect(backends.ports[1]!);
      session.on('error', () => undefined);
      try {
        assert.equal((await h2Request(session)).status, 503);
        await admin.post('/faults', JSON.stringify({ endpoints: [1], failShare: 0, resetShare: 1 }));
        assert.equal((await h2Request(session)).rstCode, 2); // INTERNAL_ERROR
        await admin.post('/faults', JSON.stringify({ endpoints: [1], resetShare: 0, stallRead: true }));
        assert.equal((await h2Request(session)).status, 200, 'no body: answered');
      } finally {
        session.destroy();
      }
      await admin.post('/faults', JSON.stringify({ endpoints: [2], refuse: 'reset' }));
      assert.equal(await connectOutcome(backends.ports[2]!), 'ECONNRESET');
      await admin.post('/faults', JSON.stringify({ endpoints: [2], refuse: 'closed' }));
      assert.equal(await connectOutcome(backends.ports[2]!), 'ECONNREFUSED');
      await admin.post('/faults', JSON.stringify({ endpoints: [2], refuse: null }));
      assert.equal(await connectOutcome(backends.ports[2]!), 'open');

      const state = (await admin.get('/faults')).body as FaultState;
      assert.equal(state.protocol, 'h2');
      assert.deepEqual(state.faultySet, [0, 1, 2]);
      assert.deepEqual(state.endpoints[1], {
        index: 1,
        port: backends.ports[1],
        faulty: true,
        listening: true,
        down: false,
        refuse: null,
        resetShare: 0,
        failShare: 0,
        latency: '5ms',
        stallRead: true,
      });
      assert.equal(state.endpoints[0]!.latency, '0ms');
      assert.equal(state.fixed.resetCode, 'INTERNAL_ERROR');
    });
  });

  it('refuses a bad change with 400 naming the key, and changes nothing', async () => {
    await withAdmin(startH1, ['--endpoints', '2', '--admin', '127.0.0.1:0'], async (_backends, admin) => {
      const cases: Array<[string, string]> = [
        ['{"down": "yes"}', 'down'],
        ['{"endpoints": [2]}', 'endpoints'],
        ['{"resetShare": 0.7, "failShare": 0.7}', 'resetShare, failShare'],
        ['{"nope": 1}', 'nope'],
        ['not json', 'body'],
      ];
      for (const [body, key] of cases) {
        const answer = await admin.post('/faults', body);
        assert.equal(answer.status, 400, body);
        assert.ok((answer.body as { error: string }).error.startsWith(`${key}:`), JSON.stringify(answer.body));
      }
      const state = (await admin.get('/faults')).body as FaultState;
      assert.ok(state.endpoints.every((e) => e.resetShare === 0 && e.failShare === 0 && !e.down));
      assert.equal((await admin.get('/nothing')).status, 404);
    });
  });
});

