// The control-plane client's own gRPC (control-client.ts): messages split across DATA frames or packed in one,
// limits, and statuses as a grpc-js server sends them (messages then OK, trailers-only errors, a lost connection).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as protoLoader from '@grpc/proto-loader';
import { DestinationServer } from '../../workloads/destination/server.js';
import { DESTINATION_SERVICE, ECHO_LOADER_OPTIONS, destinationProtoPath } from '../../workloads/proto/path.js';
import { ControlClient, frame, GRPC_STATUS, MessageDecoder, type CallStatus, type GrpcMethod } from '../src/discovery/control-client.js';
import { within } from './discovery-support.js';

type Update = { update?: string };
const methods = protoLoader.loadSync(destinationProtoPath(), ECHO_LOADER_OPTIONS)[DESTINATION_SERVICE] as unknown as Record<
  'Get' | 'GetProfile',
  GrpcMethod<object, Update>
>;

describe('control client: gRPC framing', () => {
  test('messages are cut from any split of the body: byte by byte, or several in one chunk', () => {
    const messages = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(70_000, 7)];
    const body = Buffer.concat(messages.map(frame));
    const whole = new MessageDecoder().push(body);
    assert.deepEqual(whole, messages);
    const decoder = new MessageDecoder();
    const bytewise: Buffer[] = [];
    for (let i = 0; i < body.length; i++) bytewise.push(...decoder.push(body.subarray(i, i + 1)));
    assert.deepEqual(bytewise, messages);
  });

  test('a compressed message or one above 4 MiB is refused', () => {
    const compressed = frame(Buffer.from('x'));
    compressed[0] = 1;
    assert.throws(() => new MessageDecoder().push(compressed), /compressed/);
    const huge = Buffer.alloc(5);
    huge.writeUInt32BE(4 * 2 ** 20 + 1, 1);
    assert.throws(() => new MessageDecoder().push(huge), /above the 4194304 limit/);
  });
});

describe('control client against grpc-js', { timeout: 15_000 }, () => {
  test('messages, then OK when the server ends; UNIMPLEMENTED trailers-only; UNAVAILABLE when the connection is lost', async (t) => {
    const control = await DestinationServer.start();
    t.after(() => control.close(true));
    control.setEndpoints('web', ['127.0.0.1:9001']);
    const client = new ControlClient({ address: { host: '127.0.0.1', port: control.port }, streamWindow: 65_535, connWindow: 1_048_576 });
    t.after(() => client.close());

    const seen: string[] = [];
    const statuses: CallStatus[] = [];
    client.serverStream(methods.Get, { path: 'web' }, { rpc: 'Get', service: 'web', read: true }, {
      onMessage: (m) => seen.push(m.update ?? '?'),
      onStatus: (s) => statuses.push(s),
    });
    assert.ok((await within(3000, () => seen.length === 1)) >= 0);
    control.remove('web', ['127.0.0.1:9001']);
    assert.ok((await within(3000, () => seen.length === 2)) >= 0);
    assert.deepEqual(seen, ['add', 'remove']);
    assert.deepEqual(client.windows().streams.map((s) => [s.rpc, s.service, s.read]), [['Get', 'web', true]]);

    const unknown: CallStatus[] = [];
    client.serverStream({ ...methods.Get, path: '/sluice.destination.Destination/Nope' }, { path: 'web' }, { rpc: 'Nope', service: 'web', read: true }, {
      onMessage: () => {},
      onStatus: (s) => unknown.push(s),
    });
    assert.ok((await within(3000, () => unknown.length === 1)) >= 0);
    assert.equal(unknown[0]!.code, 12, `UNIMPLEMENTED, got ${JSON.stringify(unknown[0])}`);

    await control.close(); // a graceful stop ends every stream with OK
    assert.ok((await within(3000, () => statuses.length === 1)) >= 0);
    assert.equal(statuses[0]!.code, GRPC_STATUS.OK, JSON.stringify(statuses[0]));
    assert.deepEqual(client.windows().streams, [], 'no stream left');

    // Another control plane that crashes: its stream is lost.
    const crashing = await DestinationServer.start();
    t.after(() => crashing.close(true));
    const other = new ControlClient({ address: { host: '127.0.0.1', port: crashing.port }, streamWindow: 65_535, connWindow: 65_535 });
    t.after(() => other.close());
    const lost: CallStatus[] = [];
    let opened = false;
    other.serverStream(methods.Get, { path: 'web' }, { rpc: 'Get', service: 'web', read: false }, {
      onOpen: () => (opened = true),
      onStatus: (s) => lost.push(s),
    });
    assert.ok((await within(3000, () => opened)) >= 0, 'the response headers arrived (the stream itself is never read)');
    await crashing.close(true);
    assert.ok((await within(3000, () => lost.length === 1)) >= 0);
    assert.equal(lost[0]!.code, GRPC_STATUS.UNAVAILABLE, JSON.stringify(lost[0]));
  });
});
