// responseBytes reaches the backends over every h1 and h2 client (the x-sluice-response-bytes header), and
// server streaming asks for its messages (x-sluice-stream-messages); a unary request sends neither unless asked.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runLoad } from '../../load/run-load.js';
import type { LoadOptions } from '../../load/types.js';
import { h2Server, quickOptions, respond } from './servers.js';

const ASKED = ['x-sluice-response-bytes', 'x-sluice-stream-messages'] as const;

/** What the requests asked for, as `name=value` (absent headers left out), over every request seen. */
type Seen = Set<string>;

function note(seen: Seen, headers: http.IncomingHttpHeaders): void {
  seen.add(ASKED.map((name) => (headers[name] !== undefined ? `${name}=${String(headers[name])}` : '')).filter(Boolean).join(' '));
}

async function h1Recording(seen: Seen): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    note(seen, req.headers);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-length': '2' }).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const short = (url: string, protocol: 'h1' | 'h2', overrides: Partial<LoadOptions>): LoadOptions =>
  quickOptions(url, protocol, { connections: 1, streamsPerConnection: 1, durationMs: 200, warmupMs: 0, ...overrides });

test('responseBytes is sent as x-sluice-response-bytes by the h1 clients (undici, autocannon)', async () => {
  for (const client of ['wire', 'lib'] as const) {
    const seen: Seen = new Set();
    const server = await h1Recording(seen);
    try {
      const r = await runLoad(short(server.url, 'h1', { client, responseBytes: 3000 }));
      assert.ok(r.successes > 0, client);
      assert.deepEqual([...seen], ['x-sluice-response-bytes=3000'], client);
    } finally {
      await server.close();
    }
  }
});

test('responseBytes is sent as x-sluice-response-bytes by the h2 clients (wire, node:http2); nothing is asked unless given', async () => {
  const cases: [Partial<LoadOptions>, string][] = [
    [{ responseBytes: 3000 }, 'x-sluice-response-bytes=3000'],
    [{ responseBytes: 3000, client: 'lib' }, 'x-sluice-response-bytes=3000'],
    [{ scenario: 'large-body', responseBytes: 0 }, 'x-sluice-response-bytes=0'],
    [{}, ''],
    [{ scenario: 'server-streaming', streamMessages: 4, responseBytes: 16 }, 'x-sluice-response-bytes=16 x-sluice-stream-messages=4'],
    [{ scenario: 'server-streaming' }, 'x-sluice-stream-messages=10'],
  ];
  for (const [overrides, expected] of cases) {
    const seen: Seen = new Set();
    const server = await h2Server((stream, _n, _session, headers) => {
      note(seen, headers);
      respond(stream);
    });
    try {
      await runLoad(short(server.url, 'h2', overrides));
      assert.deepEqual([...seen], [expected], JSON.stringify(overrides));
    } finally {
      await server.close();
    }
  }
});
