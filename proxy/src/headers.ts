// Header hygiene at the wire boundary: what enters the protocol-neutral model carries no pseudo headers and
// no connection-specific (hop-by-hop) fields, because each side's connection semantics are its own and
// HTTP/2 forbids those fields outright (Node throws on them).
import type { IncomingHttpHeaders } from 'node:http';
import type { Headers } from './service.js';

// RFC 9110 7.6.1 and RFC 9113 8.2.2; `host` is carried as ProxyRequest.authority instead.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'http2-settings',
  'host',
]);

/** Copies end-to-end fields only: drops pseudo headers, hop-by-hop fields and those named in Connection.
 *  `te: trailers` is kept (gRPC clients send it and HTTP/2 allows exactly that value); h1 clients drop it. */
export function endToEnd(raw: IncomingHttpHeaders | NodeJS.Dict<string | string[]>): Headers {
  const connection = raw['connection'];
  const named = connection === undefined ? NONE : listedInConnection(connection);
  const out: Headers = {};
  // for-in, not Object.entries: no array per header on the hot path (node:http and node:http2 header objects
  // are plain, prototype-less or own-property-only).
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined || name.charCodeAt(0) === 58 /* ':' pseudo header */) continue;
    const lower = isLowerCase(name) ? name : name.toLowerCase();
    if (lower === 'te') {
      if (acceptsTrailers(value)) out.te = 'trailers';
      continue;
    }
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

const NONE: ReadonlySet<string> = new Set();

/** Node hands header names over lowercased already (node:http, node:http2); only a hand-made object may not be. */
function isLowerCase(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return false;
  }
  return true;
}

/** Headers for an HTTP/1.1 peer: everything but `te`, which HTTP/1.1 ties to a Connection option. */
export function forH1(headers: Headers): Headers {
  if (!('te' in headers)) return headers;
  const { te: _te, ...rest } = headers;
  return rest;
}

function listedInConnection(value: string | string[]): Set<string> {
  const joined = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    joined
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

function acceptsTrailers(value: string | string[]): boolean {
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .includes('trailers');
}
