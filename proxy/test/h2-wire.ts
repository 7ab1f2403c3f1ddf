// Test support (no tests here): a TCP relay between an HTTP/2 client (h2c prior knowledge) and its server that
// reads the frames going by and keeps the client's receive windows as the server sees them, from the wire alone:
// what the client advertised (SETTINGS_INITIAL_WINDOW_SIZE) and granted (WINDOW_UPDATE), minus the DATA the
// server sent. Neither side's library is asked, so this is what a packet capture would show.
import net from 'node:net';

const PREFACE_BYTES = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
const DATA = 0x0;
const HEADERS = 0x1;
const SETTINGS = 0x4;
const WINDOW_UPDATE = 0x8;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const ACK = 0x1;

export interface WireRelay {
  port: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE as the client last advertised it (65535 until it does). */
  readonly initialWindow: number;
  /** Increments of every WINDOW_UPDATE the client sent for the connection (stream 0), in order. */
  readonly connectionUpdates: number[];
  /** What the server may still send on the connection now. */
  connectionWindow(): number;
  /** The lowest connection window after any DATA frame so far (the current one before any): an upper bound of the
   *  true low, since the relay sees a DATA frame before the client's WINDOW_UPDATE for it. */
  readonly lowestConnectionWindow: number;
  /** The client's streams (HEADERS it sent), in the order it opened them. */
  readonly streams: number[];
  /** What the server may still send on stream `id` now. */
  streamWindow(id: number): number;
  /** DATA payload bytes the server sent on stream `id`. */
  dataBytes(id: number): number;
  close(): Promise<void>;
}

/** Frames of one direction, as they complete. */
function frameReader(skip: number, onFrame: (type: number, flags: number, stream: number, payload: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  let toSkip = skip;
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    if (toSkip > 0) {
      const n = Math.min(toSkip, pending.length);
      pending = pending.subarray(n);
      toSkip -= n;
    }
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) return;
      onFrame(pending[3]!, pending[4]!, pending.readUInt32BE(5) & 0x7fffffff, pending.subarray(9, 9 + length));
      pending = pending.subarray(9 + length);
    }
  };
}

/** A relay on a free port to `target` (HOST:PORT on 127.0.0.1). */
export async function wireRelay(targetPort: number): Promise<WireRelay> {
  let initialWindow = 65_535;
  let connectionCredit = 0;
  let connectionData = 0;
  let lowest: number | undefined;
  const connectionUpdates: number[] = [];
  const streams: number[] = [];
  const credit = new Map<number, number>();
  const data = new Map<number, number>();
  const connectionWindow = (): number => 65_535 + connectionCredit - connectionData;

  const fromClient = (type: number, flags: number, stream: number, payload: Buffer): void => {
    if (type === HEADERS && stream !== 0 && !streams.includes(stream)) streams.push(stream);
    if (type === SETTINGS && !(flags & ACK)) {
      for (let at = 0; at + 6 <= payload.length; at += 6) {
        if (payload.readUInt16BE(at) === SETTINGS_INITIAL_WINDOW_SIZE) initialWindow = payload.readUInt32BE(at + 2);
      }
    }
    if (type === WINDOW_UPDATE) {
      const increment = payload.readUInt32BE(0) & 0x7fffffff;
      if (stream === 0) {
        connectionCredit += increment;
        connectionUpdates.push(increment);
      } else credit.set(stream, (credit.get(stream) ?? 0) + increment);
    }
  };
  const fromServer = (type: number, _flags: number, stream: number, payload: Buffer): void => {
    if (type !== DATA) return;
    connectionData += payload.length;
    data.set(stream, (data.get(stream) ?? 0) + payload.length);
    lowest = Math.min(lowest ?? Infinity, connectionWindow());
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const readClient = frameReader(PREFACE_BYTES, fromClient);
    const readServer = frameReader(0, fromServer);
    client.on('data', (chunk: Buffer) => {
      readClient(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      readServer(chunk);
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get initialWindow() {
      return initialWindow;
    },
    connectionUpdates,
    connectionWindow,
    get lowestConnectionWindow() {
      return lowest ?? connectionWindow();
    },
    streams,
    streamWindow: (id) => initialWindow + (credit.get(id) ?? 0) - (data.get(id) ?? 0),
    dataBytes: (id) => data.get(id) ?? 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
