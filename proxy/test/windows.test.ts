// The proxy sets the windows it was given on both sides: SETTINGS_INITIAL_WINDOW_SIZE and
// SETTINGS_MAX_CONCURRENT_STREAMS as its peers read them, and the connection window after its WINDOW_UPDATE.
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { describe, test, type TestContext } from 'node:test';
import { closeSession, connectH2, eventually, h2Backend, h2Request, proxy } from './support.js';

interface Expected {
  streamWindow: number;
  connWindow: number;
  maxConcurrentStreams: number;
}

async function assertWindows(t: TestContext, flags: string[], want: Expected): Promise<void> {
  // 204 with END_STREAM: no DATA, so no window is spent and the windows read back exactly.
  // The session that served the request, not a connect probe's (backend.sessions may hold those first).
  let served: http2.Http2Session | undefined;
  const backend = await h2Backend((stream) => {
    served = stream.session;
    stream.respond({ ':status': 204 }, { endStream: true });
  });
  t.after(() => backend.close());
  const p = await proxy(['--endpoints', `127.0.0.1:${backend.port}`, ...flags]);
  t.after(() => p.stop(0));
  const client = await connectH2(p.listen.port);
  t.after(() => closeSession(client));

  assert.equal(client.remoteSettings.initialWindowSize, want.streamWindow, 'downstream SETTINGS_INITIAL_WINDOW_SIZE');
  assert.equal(client.remoteSettings.maxConcurrentStreams, want.maxConcurrentStreams, 'downstream SETTINGS_MAX_CONCURRENT_STREAMS');
  assert.ok(
    await eventually(() => client.state.remoteWindowSize === want.connWindow),
    `downstream connection window is ${client.state.remoteWindowSize}, want ${want.connWindow}`,
  );

  assert.equal((await h2Request(client, { ':path': '/' })).status, 204);
  const upstream = served!;
  assert.equal(upstream.remoteSettings.initialWindowSize, want.streamWindow, 'upstream SETTINGS_INITIAL_WINDOW_SIZE');
  assert.ok(
    await eventually(() => upstream.state.remoteWindowSize === want.connWindow),
    `upstream connection window is ${upstream.state.remoteWindowSize}, want ${want.connWindow}`,
  );
}

describe('flow-control windows', { timeout: 15_000 }, () => {
  for (const [streamWindow, connWindow] of [
    [262_144, 4_194_304],
    [1_048_576, 16_777_216],
  ] as const) {
    test(`--stream-window ${streamWindow} --conn-window ${connWindow} reach both peers`, (t) =>
      assertWindows(
        t,
        ['--stream-window', String(streamWindow), '--conn-window', String(connWindow), '--max-concurrent-streams', '77'],
        { streamWindow, connWindow, maxConcurrentStreams: 77 },
      ));
  }

  test("defaults are linkerd's windows (65535 stream, 1 MiB connection) and 1024 streams", (t) =>
    assertWindows(t, [], { streamWindow: 65_535, connWindow: 1_048_576, maxConcurrentStreams: 1024 }));
});
