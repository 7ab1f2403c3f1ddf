// The shared ConnectionPool (harness/load/pool/) against a scripted connection factory: no sockets, so each
// rule is seen alone: the least busy slot, the connect back-off, a request's attempts, the deadline list
// (CANCEL sent, `timeout` recorded, a stalled stream let go), GOAWAY bookkeeping and close.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { RequestFailed } from '../../load/clients/client.js';
import { initHistograms } from '../../load/statistic/histogram.js';
import { ConnectionPool, type PoolConnection, type PoolOwner, type PoolRequest, type Slot } from '../../load/pool/pool.js';
import type { Recorder, RequestTimes } from '../../load/statistic/recorder.js';
import { measuringRecorder } from './servers.js';

/** What a fake connection does with what it is given. */
type Behaviour = 'hold' | 'refuse' | 'unsent' | 'answer' | 'silent';

class FakeRequest implements PoolRequest<FakeConnection, FakeRequest> {
  conn: FakeConnection | undefined = undefined;
  settled = false;
  attempts = 1;
  stalled = false;
  prev: FakeRequest | undefined = undefined;
  next: FakeRequest | undefined = undefined;
  resolve: () => void = () => undefined;
  reject: (err: Error) => void = () => undefined;
  constructor(
    readonly slot: Slot<FakeConnection, FakeRequest>,
    readonly times: RequestTimes,
    readonly deadline: number,
  ) {}
}

class FakeConnection implements PoolConnection<FakeRequest> {
  readonly whenReady: Promise<boolean>;
  readonly whenClosed: Promise<void>;
  wasEstablished: boolean;
  closedWith: string | undefined;
  readonly given: FakeRequest[] = [];
  readonly cancelled: FakeRequest[] = [];
  private gone = false;
  private settleClosed!: () => void;

  constructor(
    readonly owner: PoolOwner<FakeConnection, FakeRequest>,
    readonly behaviour: Behaviour,
    readonly openedAt: number,
  ) {
    this.wasEstablished = behaviour !== 'refuse' && behaviour !== 'silent';
    // 'silent': a peer that took the connection and never answers (no SETTINGS, no READY): never ready.
    this.whenReady = behaviour === 'silent' ? new Promise<boolean>(() => undefined) : Promise.resolve(this.wasEstablished);
    this.whenClosed = new Promise((resolve) => (this.settleClosed = resolve));
  }

  get acceptsStreams(): boolean {
    return !this.gone;
  }

  open(request: FakeRequest): void {
    request.conn = this;
    this.given.push(request);
    if (this.behaviour === 'answer') queueMicrotask(() => this.owner.answered(request, performance.now(), undefined));
    if (this.behaviour === 'refuse') {
      // A failed connect: its request fails by the socket error, then the connection closes.
      this.owner.aborted(request, 'ECONNREFUSED');
      this.shut();
    }
    if (this.behaviour === 'unsent') {
      this.gone = true;
      this.owner.onUnsent(request, 'goaway:NO_ERROR');
    }
  }

  cancel(request: FakeRequest): boolean {
    this.cancelled.push(request);
    return true;
  }

  close(errorClass: string): void {
    this.closedWith = errorClass;
    for (const request of this.given) this.owner.aborted(request, errorClass);
    this.shut();
  }

  shut(): void {
    this.gone = true;
    this.owner.onClose(this);
    this.settleClosed();
  }
}

class FakePool extends ConnectionPool<FakeConnection, FakeRequest> {
  readonly opened: FakeConnection[];
  stallNext = false;

  constructor(recorder: Recorder, connections: number, timeoutMs: number, behaviours: () => Behaviour) {
    const opened: FakeConnection[] = [];
    super(recorder, connections, timeoutMs, {
      open: (owner) => {
        const conn = new FakeConnection(owner, behaviours(), performance.now());
        opened.push(conn);
        return conn;
      },
    });
    this.opened = opened;
  }

  protected newRequest(slot: Slot<FakeConnection, FakeRequest>, times: RequestTimes, deadline: number): FakeRequest {
    const request = new FakeRequest(slot, times, deadline);
    request.stalled = this.stallNext;
    return request;
  }
}

const outcome = (p: Promise<void>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: unknown) => (err instanceof RequestFailed ? err.errorClass : `unexpected ${String(err)}`),
  );

async function withPool<T>(
  connections: number,
  timeoutMs: number,
  behaviours: () => Behaviour,
  work: (pool: FakePool, recorder: Recorder) => Promise<T>,
): Promise<T> {
  await initHistograms();
  const { recorder, destroy } = measuringRecorder(timeoutMs);
  const pool = new FakePool(recorder, connections, timeoutMs, behaviours);
  try {
    return await work(pool, recorder);
  } finally {
    await pool.close();
    destroy();
  }
}

test('pool: each request goes to the least busy slot, so held requests spread evenly over the connections', async () => {
  await withPool(3, 60_000, () => 'hold', async (pool) => {
    assert.equal(await pool.connect(), 3);
    for (let i = 0; i < 9; i++) void outcome(pool.startRequest());
    assert.deepEqual(
      pool.opened.map((c) => c.given.length),
      [3, 3, 3],
    );
  });
});

test('pool: connect() resolves at timeoutMs at the latest, counting the connections ready by then', { timeout: 10_000 }, async () => {
  let n = 0;
  await withPool(3, 50, () => (n++ === 1 ? 'silent' : 'hold'), async (pool) => {
    assert.equal(await pool.connect(), 2);
    assert.deepEqual(
      pool.opened.map((c) => c.behaviour),
      ['hold', 'silent', 'hold'],
    );
  });
});

test('pool: failed connects back the slot off 10, 20, then 40 ms; a connection that connects carries the next requests', async () => {
  const script: Behaviour[] = ['refuse', 'refuse', 'refuse', 'answer'];
  await withPool(1, 60_000, () => script.shift() ?? 'answer', async (pool) => {
    const classes: string[] = [];
    for (let i = 0; i < 5; i++) classes.push(await outcome(pool.startRequest()));
    assert.deepEqual(classes, ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED', 'ok', 'ok']);
    const at = pool.opened.map((c) => c.openedAt);
    assert.ok(at[1]! - at[0]! >= 9, `first back-off ${at[1]! - at[0]!} ms`);
    assert.ok(at[2]! - at[1]! >= 19, `second back-off ${at[2]! - at[1]!} ms`);
    assert.ok(at[3]! - at[2]! >= 39, `third back-off ${at[3]! - at[2]!} ms`);
    assert.equal(pool.opened.length, 4, 'the fifth request rides the fourth connection');
  });
});

test('pool: a request handed back unsent tries three connections in all, then fails with the reason', async () => {
  await withPool(1, 60_000, () => 'unsent', async (pool) => {
    assert.equal(await outcome(pool.startRequest()), 'goaway:NO_ERROR');
    assert.equal(pool.opened.length, 3);
  });
});

test('pool: past its deadline a request is cancelled on its connection, RST_STREAM(CANCEL) counted, and fails as timeout; a stalled one is let go unrecorded', async () => {
  await withPool(1, 30, () => 'hold', async (pool, recorder) => {
    await pool.connect();
    const started = performance.now();
    assert.equal(await outcome(pool.startRequest()), 'timeout');
    assert.ok(performance.now() - started >= 29);
    const conn = pool.opened[0]!;
    assert.equal(conn.cancelled.length, 1);
    pool.stallNext = true;
    assert.equal(await outcome(pool.startRequest()), 'ok');
    assert.equal(conn.cancelled.length, 1, 'a stalled stream is not cancelled');
    const counts = recorder.counts();
    assert.deepEqual(counts.errors, { timeout: 1 });
    assert.equal(counts.requests, 1);
    assert.deepEqual(counts.rst.sent, { CANCEL: 1 });
  });
});

test('pool: a GOAWAY is counted with the streams it cut, and the next request opens a new connection on that slot', async () => {
  await withPool(1, 60_000, () => 'hold', async (pool, recorder) => {
    await pool.connect();
    const first = pool.opened[0]!;
    void outcome(pool.startRequest());
    pool.onGoaway(first, 0xb, 0, 1);
    void outcome(pool.startRequest());
    assert.equal(pool.opened.length, 2);
    assert.equal(pool.opened[1]!.given.length, 1);
    assert.deepEqual(recorder.counts().goawayReceived, { ENHANCE_YOUR_CALM: 1 });
    assert.deepEqual(recorder.counts().goawayStreamsCut, { ENHANCE_YOUR_CALM: 1 });
  });
});

test('pool: close fails what is in flight and what waits out a back-off as other:closed, closes every connection, refuses new requests', async () => {
  const script: Behaviour[] = ['hold', 'refuse', 'refuse'];
  await withPool(2, 60_000, () => script.shift() ?? 'hold', async (pool) => {
    assert.equal(await pool.connect(), 1);
    const inFlight = outcome(pool.startRequest());
    assert.equal(await outcome(pool.startRequest()), 'ECONNREFUSED');
    // The second slot's connect failed: the next request there waits out its back-off.
    const waiting = outcome(pool.startRequest());
    assert.equal(pool.opened.length, 2);
    await pool.close();
    assert.equal(await inFlight, 'other:closed');
    assert.equal(await waiting, 'other:closed');
    assert.equal(pool.opened[0]!.closedWith, 'other:closed');
    assert.equal(await outcome(pool.startRequest()), 'other:closed');
  });
});
