// The protocol registry (harness/load/protocols.ts, and clients/registry.ts for the modules): every protocol has a
// client of each kind that loads, the capabilities the options check and the merge read come from it, and the
// matrix axis and the CLI take its names, so a protocol added there is a protocol everywhere.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AXES } from '../../matrix/axes.js';
import { PROTOCOLS as BACKEND_PROTOCOLS } from '../../../workloads/backends/config.js';
import { CLIENT_KINDS, PROTOCOLS } from '../../load/options.js';
import { clientEntry, onWireFraming, PROTOCOL_ENTRIES, PROTOCOL_NAMES, PROTOCOLS_DOC, streamsPerConnection } from '../../load/protocols.js';
import { loadClientFactory } from '../../load/run-load.js';
import { CLIENT_LOADERS } from '../../load/clients/registry.js';
import { quickOptions } from './servers.js';

test('protocols: each protocol loads a client factory of each kind, and run-load picks the one the options name', async () => {
  for (const name of PROTOCOL_NAMES) {
    assert.equal(PROTOCOL_ENTRIES[name].name, name);
    for (const kind of CLIENT_KINDS) {
      const factory = await CLIENT_LOADERS[name][kind]();
      assert.equal(typeof factory, 'function', `${name} ${kind}`);
      assert.equal(await loadClientFactory(quickOptions('http://127.0.0.1:1/', name, { client: kind })), factory);
    }
  }
  // No client named: the default kind, wire.
  assert.equal(clientEntry({ protocol: 'h2' }), PROTOCOL_ENTRIES.h2.clients.wire);
  assert.match(clientEntry({ protocol: 'grpc', client: 'lib' }).what, /grpc-js/);
});

test('protocols: our framing client only for h2 and gRPC without client lib; h1 carries one request per connection', () => {
  assert.deepEqual(
    PROTOCOL_NAMES.flatMap((protocol) => CLIENT_KINDS.filter((client) => onWireFraming({ protocol, client })).map((client) => `${protocol}/${client}`)),
    ['h2/wire', 'grpc/wire'],
  );
  assert.equal(onWireFraming({ protocol: 'grpc' }), true);
  assert.equal(streamsPerConnection('h1', 16), 1);
  assert.equal(streamsPerConnection('h2', 16), 16);
  assert.equal(streamsPerConnection('grpc', 16), 16);
});

test('protocols: the options, the matrix axis and the backends take the registry names', () => {
  assert.deepEqual([...PROTOCOLS], [...PROTOCOL_NAMES]);
  assert.deepEqual([...BACKEND_PROTOCOLS], [...PROTOCOL_NAMES]);
  const axis = AXES.protocol;
  for (const name of PROTOCOL_NAMES) assert.equal(axis.value.safeParse(name).success, true, name);
  assert.equal(axis.value.safeParse('h3').success, false);
  assert.equal(axis.doc, 'h1 | h2 (h2c prior knowledge) | grpc');
  assert.equal(PROTOCOLS_DOC, axis.doc);
});
