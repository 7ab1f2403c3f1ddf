// The generator's protocols, declared once (issue 15 step 2): each entry names the protocol, says what it is,
// whether it multiplexes streams over a connection, and which client implements it for each client kind: the
// default (`wire`: our own framing for h2 and gRPC, undici for h1) and the alternate (`lib`: node:http2,
// @grpc/grpc-js, autocannon) kept to cross-check. The Protocol and ClientKind types, the option checks, the
// CLI's choices, the matrix's protocol axis and the cells' exclusions all derive from this table.
// Which module implements each client is clients/registry.ts's (a dynamic import each, keyed by this table's names),
// so that this table, which the option types derive from, imports no client: the clients import those types.
import { PROTOCOL_NAMES, type Protocol } from '../../common/protocols.js';

// The names are common/'s (the backends and scenarios use them too); the Record below must cover every one.
export { PROTOCOL_NAMES, type Protocol } from '../../common/protocols.js';

export const CLIENT_KINDS = ['wire', 'lib'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface ClientEntry {
  /** The client's module and library, for help texts and reports. */
  what: string;
}

export interface ProtocolEntry {
  readonly name: Protocol;
  /** How help texts and the matrix axis list it among the others: its name, and what it means if that is not obvious. */
  readonly label: string;
  /** Streams share a connection (HTTP/2): `streamsPerConnection` applies; h1 carries one request per connection. */
  readonly multiplexed: boolean;
  /**
   * The default client is our own HTTP/2 framing (harness/load/wire/): the only one with a strict receiver, stalled
   * streams, the rapid-reset attacker and server streaming.
   */
  readonly wireFraming: boolean;
  readonly clients: Readonly<Record<ClientKind, ClientEntry>>;
}

export const PROTOCOL_ENTRIES: Readonly<Record<Protocol, ProtocolEntry>> = {
  h1: {
    name: 'h1',
    label: 'h1',
    multiplexed: false,
    wireFraming: false,
    clients: {
      // undici for both loops; autocannon as the cross-check, closed loop only.
      wire: { what: 'clients/h1.ts (undici)' },
      lib: { what: 'clients/h1-autocannon.ts (autocannon)' },
    },
  },
  h2: {
    name: 'h2',
    label: 'h2 (h2c prior knowledge)',
    multiplexed: true,
    wireFraming: true,
    clients: {
      // ~25x less CPU per request than node:http2, and the only client that can hold connection credit back.
      wire: { what: 'clients/h2-wire.ts (our framing)' },
      lib: { what: 'clients/h2.ts (node:http2)' },
    },
  },
  grpc: {
    name: 'grpc',
    label: 'grpc',
    multiplexed: true,
    wireFraming: true,
    clients: {
      wire: { what: 'clients/grpc-wire.ts (our framing)' },
      lib: { what: 'clients/grpc.ts (@grpc/grpc-js)' },
    },
  },
};

/** The client these options run on: the protocol's client of `client` kind, `wire` by default. */
export function clientEntry(options: { protocol: Protocol; client?: ClientKind }): ClientEntry {
  return PROTOCOL_ENTRIES[options.protocol].clients[options.client ?? 'wire'];
}

/** These options run on our own HTTP/2 framing client (harness/load/wire/). */
export function onWireFraming(options: { protocol: Protocol; client?: ClientKind }): boolean {
  return PROTOCOL_ENTRIES[options.protocol].wireFraming && (options.client ?? 'wire') === 'wire';
}

/** Requests one connection carries at once in a closed loop: `streamsPerConnection`, or 1 where streams do not multiplex. */
export function streamsPerConnection(protocol: Protocol, streams: number): number {
  return PROTOCOL_ENTRIES[protocol].multiplexed ? streams : 1;
}

/** Every protocol's label, as help texts and the matrix axis list them: 'h1 | h2 (h2c prior knowledge) | grpc'. */
export const PROTOCOLS_DOC = PROTOCOL_NAMES.map((name) => PROTOCOL_ENTRIES[name].label).join(' | ');
