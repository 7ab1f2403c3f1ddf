// The connection's lean client APIs (the generator's hot path): a request from a header block encoded once
// (requestEncoded), DATA as lengths and views (onDataLength, onDataPiece), fields as one flat array
// (onHeaderFields), the connection's credit apart from the stream's (consumeConnection), the send windows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection, type H2Listener, type Transport } from '../connection.js';
import { FLAG, FRAME, FrameReader, PREFACE, SETTING, settingsFrame, SETTINGS_ACK, windowUpdateFrame } from '../frames.js';
import { HpackEncoder, encodeHeaderBlock } from '../hpack/encoder.js';
import { frame, MemoryTransport } from './wire.js';

const GET = [
  [':method', 'GET'],
  [':scheme', 'http'],
  [':authority', 'example.test'],
  [':path', '/resource'],
  ['x-load', 'sluice'],
] as const;

/** Two connections wired in memory, bytes delivered on a later turn (as a socket would). */
function pair(serverListener: (server: () => H2Connection) => H2Listener, clientListener: H2Listener, serverSettings = {}): { client: H2Connection; server: H2Connection; clientOut: Buffer[]; settle: () => Promise<void> } {
  const ref: { client?: H2Connection; server?: H2Connection } = {};
  let pending = 0;
  const clientOut: Buffer[] = [];
  const wire = (to: () => H2Connection, log?: Buffer[]): Transport => ({
    write: (buf) => {
      pending++;
      const copy = Buffer.from(buf);
      log?.push(copy);
      setImmediate(() => {
        pending--;
        to().receive(copy);
      });
      return true;
    },
    end: () => {},
    destroy: () => {},
  });
  const server = new H2Connection('server', wire(() => ref.client!), serverListener(() => ref.server!), { settings: serverSettings });
  ref.server = server;
  const client = new H2Connection('client', wire(() => server, clientOut), clientListener);
  ref.client = client;
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 10_000 && pending > 0; i++) await new Promise((r) => setImmediate(r));
  };
  return { client, server, clientOut, settle };
}

/** The HEADERS frames' blocks in what a connection wrote (after the client preface). */
function headerBlocks(out: Buffer[]): Buffer[] {
  const blocks: Buffer[] = [];
  const reader = new FrameReader({
    onFrame: (type, _flags, _id, buf, start, end) => {
      if (type === FRAME.HEADERS) blocks.push(Buffer.from(buf.subarray(start, end)));
    },
    onData: () => {},
  });
  reader.push(Buffer.concat(out).subarray(PREFACE.length));
  return blocks;
}

test('h2 requestEncoded: the same pre-encoded block on every request, decoded by the server as the fields it encodes', async () => {
  const seen: Array<Array<[string, string]>> = [];
  const { client, clientOut, settle } = pair(
    (srv) => ({
      onHeaders: (id, headers) => {
        seen.push(headers);
        srv().respond(id, [[':status', '204']], true);
      },
    }),
    {},
  );
  await settle();
  const block = encodeHeaderBlock(GET);
  const ids = [client.requestEncoded(block, true), client.requestEncoded(block, true), client.requestEncoded(block, true)];
  assert.deepEqual(ids, [1, 3, 5]);
  await settle();
  assert.equal(seen.length, 3);
  for (const headers of seen) assert.deepEqual(headers, GET);
  // The bytes on the wire are the block itself, each time: no encoding per request.
  for (const sent of headerBlocks(clientOut)) assert.ok(sent.equals(block));
  assert.equal(client.streamState(5), 'closed');
});

test('h2 requestEncoded: a table size update the encoder owes the peer goes in front of the block, once', async () => {
  const seen: Array<Array<[string, string]>> = [];
  // The server announces a dynamic table of 0: the client's next block must start with a size update (RFC 7541 4.2).
  const { client, clientOut, settle } = pair(
    (srv) => ({
      onHeaders: (id, headers) => {
        seen.push(headers);
        srv().respond(id, [[':status', '204']], true);
      },
    }),
    {},
    { headerTableSize: 0 },
  );
  await settle();
  const block = encodeHeaderBlock(GET);
  client.requestEncoded(block, true);
  client.requestEncoded(block, true);
  await settle();
  const [first, second] = headerBlocks(clientOut);
  // 0x20: a dynamic table size update to 0 (001xxxxx, 5-bit prefix), then the block unchanged.
  assert.equal(first![0], 0x20);
  assert.ok(first!.subarray(1).equals(block));
  assert.ok(second!.equals(block), 'owed once');
  assert.deepEqual(seen, [GET, GET]);
});

test('h2 onHeaderFields: fields in one flat, reused array, instead of onHeaders', async () => {
  const got: string[][] = [];
  let arrays = new Set<readonly string[]>();
  let onHeaders = 0;
  const { client, settle } = pair(
    (srv) => ({
      onHeaders: (id) => {
        srv().respond(id, [[':status', '200'], ['content-type', 'text/plain']]);
        srv().sendTrailers(id, [['x-trailer', 'yes']]);
      },
    }),
    {
      onHeaders: () => void onHeaders++,
      onHeaderFields: (_id, fields, count, endStream) => {
        arrays.add(fields);
        got.push([...fields.slice(0, count), String(endStream)]);
      },
    },
  );
  await settle();
  client.request(GET, true);
  client.request(GET, true);
  await settle();
  assert.equal(onHeaders, 0);
  assert.deepEqual(got, [
    [':status', '200', 'content-type', 'text/plain', 'false'],
    ['x-trailer', 'yes', 'true'],
    [':status', '200', 'content-type', 'text/plain', 'false'],
    ['x-trailer', 'yes', 'true'],
  ]);
  assert.equal(arrays.size, 1, 'one array for every block');
  arrays = new Set();
});

test('h2 onDataLength / onDataPiece: DATA as lengths and views of the chunk given to receive(), never onData', () => {
  const body = Buffer.alloc(20_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
  for (const withPieces of [true, false]) {
    const chunks = new Set<Buffer>();
    const pieces: Buffer[] = [];
    const lengths: Array<[number, boolean]> = [];
    let onData = 0;
    const listener: H2Listener = {
      onData: () => void onData++,
      onDataLength: (_id, length, end) => void lengths.push([length, end]),
      ...(withPieces
        ? {
            onDataPiece: (_id: number, buf: Buffer, start: number, end: number) => {
              assert.ok(chunks.has(buf), 'a view of a chunk given to receive(), not a copy');
              pieces.push(Buffer.from(buf.subarray(start, end)));
            },
          }
        : {}),
    };
    const t = new MemoryTransport(true);
    const client = new H2Connection('client', t, listener, { validateHttp: false });
    const feed = (bytes: Buffer): void => {
      chunks.add(bytes);
      client.receive(bytes);
    };
    feed(settingsFrame([]));
    const id = client.request(GET, true);
    const status = new HpackEncoder().encode([[':status', '200']]);
    // Two DATA frames (one padded), cut across three reads (frames under the 16 384-octet SETTINGS_MAX_FRAME_SIZE).
    const padded = Buffer.concat([Buffer.from([3]), body.subarray(10_000), Buffer.alloc(3)]);
    const wire = Buffer.concat([frame(FRAME.HEADERS, FLAG.END_HEADERS, id, status), frame(FRAME.DATA, 0, id, body.subarray(0, 10_000)), frame(FRAME.DATA, FLAG.END_STREAM | FLAG.PADDED, id, padded)]);
    for (const [from, to] of [
      [0, 5_000],
      [5_000, 15_000],
      [15_000, wire.length],
    ] as const) {
      feed(Buffer.from(wire.subarray(from, to)));
    }
    assert.equal(onData, 0);
    assert.deepEqual(lengths, [
      [10_000, false],
      [10_000, true],
    ]);
    if (withPieces) {
      assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
      assert.ok(Buffer.concat(pieces).equals(body));
    } else {
      assert.equal(pieces.length, 0);
    }
    assert.equal(client.streamState(id), 'closed');
  }
});

test('h2 consumeConnection: the connection window reopens while the stream that was not read keeps its own shut', () => {
  const t = new MemoryTransport(true);
  let stream = 0;
  const client = new H2Connection(
    'client',
    t,
    {
      onDataLength: (id, length) => {
        stream = id;
        client.consumeConnection(id, length);
      },
    },
    { validateHttp: false },
  );
  client.receive(Buffer.concat([settingsFrame([]), SETTINGS_ACK]));
  const a = client.request(GET, true);
  const status = new HpackEncoder().encode([[':status', '200']]);
  client.receive(frame(FRAME.HEADERS, FLAG.END_HEADERS, a, status));
  // 32 000 of the 65 535 octets of each window (two frames): past half, so the connection's credit goes back at once.
  client.receive(Buffer.concat([frame(FRAME.DATA, 0, a, Buffer.alloc(16_000)), frame(FRAME.DATA, 0, a, Buffer.alloc(16_000))]));
  assert.equal(stream, a);
  const updates = t.of('WINDOW_UPDATE');
  assert.deepEqual(
    updates.map((f) => [f.streamId, f.increment]),
    [[0, 32_000]],
  );
  assert.equal(client.receiveWindow(0), 65_535);
  assert.equal(client.receiveWindow(a), 65_535 - 32_000, 'the stream window stays shut');
  // Read later: the stream's credit alone (the connection's went back already).
  client.consume(a, 32_000);
  assert.deepEqual(
    t.of('WINDOW_UPDATE').map((f) => [f.streamId, f.increment]),
    [
      [0, 32_000],
      [a, 32_000],
    ],
  );
  assert.equal(client.receiveWindow(0), 65_535);
});

test('h2 sendWindow: the connection window, a stream window, and the peer initial window for a stream not opened yet', () => {
  const t = new MemoryTransport(true);
  const client = new H2Connection('client', t, {}, { validateHttp: false });
  client.receive(Buffer.concat([settingsFrame([[SETTING.INITIAL_WINDOW_SIZE, 1000]]), windowUpdateFrame(0, 500)]));
  assert.equal(client.sendWindow(0), 65_535 + 500);
  assert.equal(client.sendWindow(1), 1000, 'idle: what a new stream would get');
  const id = client.request(GET);
  client.sendData(id, Buffer.alloc(300));
  assert.equal(client.sendWindow(id), 700);
  assert.equal(client.sendWindow(0), 65_535 + 500 - 300);
});
