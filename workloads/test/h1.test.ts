import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseBackendArgs, type BackendConfig } from '../backends/config.js';
import { start } from '../backends/h1.js';
import { ListenError } from '../backends/listen.js';
import type { RunningBackends } from '../backends/types.js';

function config(argv: string[]): BackendConfig {
  const command = parseBackendArgs(argv);
  assert.equal(command.kind, 'run');
  return command.config;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(agent: http.Agent, port: number, options: http.RequestOptions = {}, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent, path: '/any/path', ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

describe('h1 backend', { timeout: 10_000 }, () => {
  let backends: RunningBackends;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  before(async () => {
    backends = await start(config(['--endpoints', '3', '--latency', 'uniform:0ms:2ms', '--response-bytes', '2048']));
  });

  after(async () => {
    agent.destroy();
    await backends.close();
  });

  it('serves N endpoints on distinct ports, each naming itself', async () => {
    assert.equal(backends.ports.length, 3);
    assert.equal(new Set(backends.ports).size, 3);
    for (const port of backends.ports) {
      const answer = await request(agent, port);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'application/octet-stream');
      assert.equal(answer.headers['content-length'], '2048');
      assert.equal(answer.headers['x-sluice-endpoint'], String(port));
      assert.equal(answer.headers.connection, 'keep-alive');
      assert.equal(answer.body.length, 2048);
    }
  });

  it('reads the whole request body and honours x-sluice-response-bytes', async () => {
    const body = Buffer.alloc(256 * 1024, 1);
    const answer = await request(agent, backends.ports[1]!, { method: 'POST', headers: { 'x-sluice-response-bytes': '5000' } }, body);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.length, 5000);
    const empty = await request(agent, backends.ports[2]!, { method: 'PUT', headers: { 'x-sluice-response-bytes': '0' } });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.length, 0);
    const bigger = await request(agent, backends.ports[0]!, { headers: { 'x-sluice-response-bytes': String(1024 * 1024) } });
    assert.equal(bigger.body.length, 1024 * 1024);
  });

  it('answers 400 to a bad x-sluice-response-bytes', async () => {
    const answer = await request(agent, backends.ports[0]!, { headers: { 'x-sluice-response-bytes': 'lots' } });
    assert.equal(answer.status, 400);
    assert.match(answer.body.toString(), /x-sluice-response-bytes/);
  });
});

describe('h1 backend ports and close', { timeout: 10_000 }, () => {
  it('uses ports P..P+N-1 for --base-port P', async () => {
    // A free range is found by asking the OS for a port; retry if a neighbour is taken meanwhile.
    for (let attempt = 0; ; attempt++) {
      const base = await freePort();
      try {
        const backends = await start(config(['--endpoints', '3', '--base-port', String(base)]));
        assert.deepEqual(backends.ports, [base, base + 1, base + 2]);
        await backends.close();
        return;
      } catch (err) {
        if (!(err instanceof ListenError) || attempt >= 5) throw err;
      }
    }
  });

  it('refuses a taken port and leaves nothing listening', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(start(config(['--endpoints', '1', '--base-port', String(taken)])), (err: unknown) => {
        return err instanceof ListenError && err.message.includes(String(taken));
      });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('close() ends keep-alive connections and stops listening', async () => {
    const backends = await start(config(['--endpoints', '2']));
    const agent = new http.Agent({ keepAlive: true });
    await request(agent, backends.ports[0]!);
    await backends.close();
    agent.destroy();
    for (const port of backends.ports) assert.ok(await refused(port), `port ${port} still accepts`);
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port > 65_000 ? freePort() : port;
}
