// Header lists (what h2/ decodes and encodes: [name, value] pairs in wire order) to and from the header objects
// the proxy's model uses, with node:http2's rules, so both engines hand the stack the same request: a repeated
// field becomes an array, `cookie` crumbs are joined with "; " (RFC 9113 8.2.3), and a repeated field that can
// only have one value keeps its first (node's kSingleValueHeaders, lib/internal/http2/util.js).
import type { Headers } from '../service.js';

const SINGLE_VALUE = new Set([
  ':status',
  ':method',
  ':authority',
  ':scheme',
  ':path',
  ':protocol',
  'access-control-allow-credentials',
  'access-control-max-age',
  'access-control-request-method',
  'age',
  'authorization',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'dnt',
  'etag',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'tk',
  'upgrade-insecure-requests',
  'user-agent',
  'x-content-type-options',
]);

/** A decoded header list as node:http2 would hand it over (pseudo-headers included, prototype-less). */
export function headerObject(list: ReadonlyArray<readonly [string, string]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of list) {
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (name === 'cookie') out[name] = `${existing as string}; ${value}`;
    else if (SINGLE_VALUE.has(name)) continue;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  return out;
}

/** `headers` appended to `into` as fields (an array value: one field each, in order). */
export function fieldList(headers: Headers, into: Array<[string, string]> = []): Array<[string, string]> {
  for (const name in headers) {
    const value = headers[name]!;
    if (typeof value === 'string') into.push([name, value]);
    else for (const v of value) into.push([name, v]);
  }
  return into;
}
