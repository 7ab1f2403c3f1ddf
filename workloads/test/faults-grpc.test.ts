import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { H2_CODE } from '../../common/h2-codes.js';
import { start } from '../backends/grpc.js';
import { seededRandom } from '../backends/latency.js';
import type { RunningBackends, StartOptions } from '../backends/types.js';
import { ECHO_LOADER_OPTIONS, ECHO_SERVICE, echoProtoPath } from '../proto/path.js';
import { config, connectOutcome, h2Connect, h2Request } from './fault-clients.js';

type EchoClient = grpc.Client & {
  Unary(
    request: { payload?: Buffer; response_bytes?: number },
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, reply?: { payload: Buffer }) => void,
  ): grpc.ClientUnaryCall;
};

const definition = protoLoader.loadSync(echoProtoPath(), ECHO_LOADER_OPTIONS);
const Echo = grpc.makeGenericClientConstructor(definition[ECHO_SERVICE] as unknown as grpc.ServiceDefinition, 'Echo');

/** A call's outcome: OK, or the status and details it failed with. */
function unary(client: EchoClient, request: { payload?: Buffer } = {}, deadlineMs = 5000): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    client.Unary(request, { deadline: Date.now() + deadlineMs }, (err) =>
      resolve(err ? { code: err.code, details: err.details } : { code: grpc.status.OK, details: '' }),
    );
  });
}

async function withBackends(argv: string[], body: (backends: RunningBackends, client: EchoClient) => Promise<void>, options: StartOptions = {}): Promise<void> {
  const backends = await start(config(['--protocol', 'grpc', ...argv]), options);
  const client = new Echo(`127.0.0.1:${backends.ports[0]}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
  try {
    await body(backends, client);
  } finally {
    client.close();
    await backends.close();
  }
}

/** An empty EchoRequest, framed as gRPC sends it (no compression, length 0). */
const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);
const UNARY_HEADERS = { ':method': 'POST', ':path': `/${ECHO_SERVICE}/Unary`, 'content-type': 'application/grpc', te: 'trailers' };

const stats = (backends: RunningBackends, index = 0) => backends.faults.stats().endpoints[index]!;

describe('gRPC backend faults', { timeout: 20_000 }, () => {
  it('--reset-share 1 --reset-code: the call is reset with that RST_STREAM code', async () => {
    await withBackends(['--reset-share', '1', '--reset-code', 'FLOW_CONTROL_ERROR'], async (backends, client) => {
      const outcome = await unary(client);
      assert.equal(outcome.code, grpc.status.INTERNAL);
      assert.match(outcome.details, /RST_STREAM with code 3\b/);
      // The frame itself, seen by a plain HTTP/2 client.
      const session = await h2Connect(backends.ports[0]!);
      try {
        const raw = await h2Request(session, UNARY_HEADERS, EMPTY_MESSAGE);
        assert.equal(raw.rstCode, H2_CODE.FLOW_CONTROL_ERROR);
      } finally {
        session.destroy();
      }
      assert.equal(stats(backends).requests.reset, 2);
    });
  });

  it('--fail-share answers the --fail-grpc status; a share of 0.5 over 200 calls lands within 0.35..0.65', async () => {
    await withBackends(['--fail-share', '1', '--fail-grpc', 'RESOURCE_EXHAUSTED'], async (backends, client) => {
      const outcome = await unary(client);
      assert.equal(outcome.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.deepEqual(stats(backends).requests.answered, { RESOURCE_EXHAUSTED: 1 });
    });
    await withBackends(
      ['--fail-share', '0.5'],
      async (backends, client) => {
        const outcomes = await Promise.all(Array.from({ length: 200 }, () => unary(client)));
        const failed = outcomes.filter((o) => o.code === grpc.status.UNAVAILABLE).length;
        assert.equal(outcomes.filter((o) => o.code === grpc.status.OK).length + failed, 200);
        assert.ok(failed >= 70 && failed <= 130, `${failed} of 200 failed`);
        assert.deepEqual(stats(backends).requests.answered, { OK: 200 - failed, UNAVAILABLE: failed });
      },
      { random: seededRandom(13) },
    );
  });

  it('--stall-read: a call (its body is the message) is never answered', async () => {
    await withBackends(['--stall-read'], async (backends, client) => {
      const outcome = await unary(client, { payload: Buffer.alloc(100) }, 500);
      assert.equal(outcome.code, grpc.status.DEADLINE_EXCEEDED);
      assert.equal(stats(backends).requests.stalled, 1);
    });
  });

  it('--refuse closed: connects are refused; the other endpoints answer', async () => {
    await withBackends(['--endpoints', '2', '--slow-endpoints', '1', '--refuse', 'closed'], async (backends, client) => {
      assert.equal(await connectOutcome(backends.ports[0]!), 'ECONNREFUSED');
      const outcome = await unary(client, {}, 1000);
      assert.ok(outcome.code === grpc.status.UNAVAILABLE || outcome.code === grpc.status.DEADLINE_EXCEEDED, `code ${outcome.code}`);
      const healthy = new Echo(`127.0.0.1:${backends.ports[1]}`, grpc.credentials.createInsecure()) as unknown as EchoClient;
      try {
        assert.equal((await unary(healthy)).code, grpc.status.OK);
      } finally {
        healthy.close();
      }
    });
  });

  it('--slow-endpoints 1 --slow-latency: only the first endpoint is slow', async () => {
    await withBackends(['--endpoints', '2', '--slow-endpoints', '1', '--slow-latency', '400ms'], async (backends, client) => {
      const t0 = performance.now();
      assert.equal((await unary(client)).code, grpc.status.OK);
      assert.ok(performance.now() - t0 >= 380, 'the faulty endpoint was not slow');
      assert.deepEqual(
        backends.faults.state().endpoints.map((e) => e.latency),
        ['400ms', '0ms'],
      );
    });
  });
});

