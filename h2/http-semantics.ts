// HTTP semantics of RFC 9113 section 8 that a connection must check on every header block it receives: field
// names and values (8.2.1), connection-specific fields (8.2.2), pseudo-header fields (8.3), and content-length
// against the DATA that follows (8.1.1). A violation makes the message malformed: a stream PROTOCOL_ERROR, as
// nghttp2 answers it (RST_STREAM). Each check returns the reason, or undefined when the block is well-formed.

const CONNECTION_SPECIFIC = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade']);
const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
/** RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (nghttp2's check_scheme). */
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

export type MessageKind = 'request' | 'response' | 'trailers';

/** tchar of RFC 9110 5.6.2 without upper-case letters (8.2.1: names are lower-case in HTTP/2). */
function badName(name: string): boolean {
  if (name.length === 0) return true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) continue; // a-z
    if (c >= 0x30 && c <= 0x39) continue; // 0-9
    if ("!#$%&'*+-.^_`|~".includes(name[i]!)) continue;
    return true;
  }
  return false;
}

/** 8.2.1: no NUL, CR or LF, and no leading or trailing whitespace (SP, HTAB). */
function badValue(value: string): boolean {
  if (value.length === 0) return false;
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) return true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

/** Why the block is malformed as a `kind` message, or undefined. */
export function checkHeaders(headers: ReadonlyArray<readonly [string, string]>, kind: MessageKind): string | undefined {
  const pseudo = new Map<string, string>();
  let regularSeen = false;
  for (const [name, value] of headers) {
    if (name.startsWith(':')) {
      if (kind === 'trailers') return `pseudo-header ${name} in trailers`;
      if (regularSeen) return `pseudo-header ${name} after a regular field`;
      if (pseudo.has(name)) return `pseudo-header ${name} twice`;
      const known = kind === 'request' ? REQUEST_PSEUDO.has(name) : name === ':status';
      if (!known) return `pseudo-header ${name} in a ${kind}`;
      if (badValue(value)) return `bad value of ${name}`;
      pseudo.set(name, value);
      continue;
    }
    regularSeen = true;
    if (badName(name)) return `bad field name ${JSON.stringify(name)}`;
    if (badValue(value)) return `bad value of ${name}`;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    if (name === 'te' && value !== 'trailers') return `te: ${value}`;
  }
  if (kind === 'request') {
    const method = pseudo.get(':method');
    if (method === undefined) return 'request without :method';
    if (method === 'CONNECT' && !pseudo.has(':protocol')) {
      if (!pseudo.has(':authority')) return 'CONNECT without :authority';
      if (pseudo.has(':scheme') || pseudo.has(':path')) return 'CONNECT with :scheme or :path';
      return undefined;
    }
    if (pseudo.has(':protocol') && method !== 'CONNECT') return ':protocol outside CONNECT';
    if (pseudo.has(':protocol') && !pseudo.has(':authority')) return ':protocol without :authority';
    const scheme = pseudo.get(':scheme');
    if (scheme === undefined) return 'request without :scheme';
    if (!SCHEME.test(scheme)) return `bad :scheme ${JSON.stringify(scheme)}`;
    const path = pseudo.get(':path');
    if (path === undefined || path.length === 0) return 'request without :path';
    // 8.3.1: for http and https, an origin-form path, or "*" for OPTIONS (nghttp2's check_path).
    if ((scheme === 'http' || scheme === 'https') && path[0] !== '/' && !(path === '*' && method === 'OPTIONS')) {
      return `:path ${JSON.stringify(path.slice(0, 64))} is neither absolute nor * with OPTIONS`;
    }
    // 8.3.1: a request names its target by :authority or host (nghttp2 refuses one with neither). A host that
    // differs from :authority is let through, as nghttp2 does: the RFC's "SHOULD" is the application's to apply.
    if (!pseudo.has(':authority') && !headers.some(([name]) => name === 'host')) return 'request without :authority or host';
  }
  if (kind === 'response') {
    const status = pseudo.get(':status');
    if (status === undefined || !/^[1-9][0-9][0-9]$/.test(status)) return `response :status ${status ?? 'missing'}`;
  }
  return undefined;
}

/** The content-length of a block: undefined if absent, -1 if malformed (not digits, or several differing values). */
export function contentLength(headers: ReadonlyArray<readonly [string, string]>): number | undefined {
  let length: number | undefined;
  for (const [name, value] of headers) {
    if (name !== 'content-length') continue;
    if (!/^[0-9]{1,15}$/.test(value)) return -1;
    const n = Number(value);
    if (length !== undefined && length !== n) return -1;
    length = n;
  }
  return length;
}
