// Which module implements each protocol's client of each kind (../protocols.ts names them and says what they are).
// Each is a dynamic import, so a worker thread loads only the client it uses (autocannon and grpc-js take a quarter
// of a second each). Kept apart from ../protocols.ts, which the option types derive from, because every client
// imports those types. A new protocol is a line here and a line there; the Record type fails the build until both
// are written.
import type { ClientKind, Protocol } from '../protocols.js';
import type { ClientFactory } from './client.js';

type Loader = () => Promise<ClientFactory>;

export const CLIENT_LOADERS: Readonly<Record<Protocol, Readonly<Record<ClientKind, Loader>>>> = {
  h1: {
    wire: async () => (await import('./h1.js')).createH1Client,
    lib: async () => (await import('./h1-autocannon.js')).createH1AutocannonClient,
  },
  h2: {
    wire: async () => (await import('./h2-wire.js')).createH2WireClient,
    lib: async () => (await import('./h2.js')).createH2Client,
  },
  grpc: {
    wire: async () => (await import('./grpc-wire.js')).createGrpcWireClient,
    lib: async () => (await import('./grpc.js')).createGrpcClient,
  },
};

/** The client factory for these options: the protocol's client of `client` kind, `wire` by default. */
export function loadClient(options: { protocol: Protocol; client?: ClientKind }): Promise<ClientFactory> {
  return CLIENT_LOADERS[options.protocol][options.client ?? 'wire']();
}
