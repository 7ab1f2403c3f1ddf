// HTTP semantics of RFC 9113 section 8 that a connection must check on every header block it receives: field
// names and values (8.2.1), connection-specific fields (8.2.2), pseudo-header fields (8.3), and content-length
// against the DATA that follows (8.1.1). A violation makes the message malformed: a stream PROTOCOL_ERROR, as
// nghttp2 answers it (RST_STREAM). Each check returns the reason, or undefined when the block is well-formed.

const CONNECTION_SPECIFIC = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

export type MessageKind = 'request' | 'response' | 'trailers';

/** tchar of RFC 9110 5.6.2 without upper-case letters (8.2.1: names are lower-case in HTTP/2), by char code. */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0x61; c <= 0x7a; c++) NAME_CHAR[c] = 1; // a-z
for (let c = 0x30; c <= 0x39; c++) NAME_CHAR[c] = 1; // 0-9
for (const c of "!#$%&'*+-.^_`|~") NAME_CHAR[c.charCodeAt(0)] = 1;

function badName(name: string): boolean {
  if (name.length === 0) return true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || NAME_CHAR[c] === 0) return true;
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

/** RFC 3986 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (nghttp2's check_scheme). */
function goodScheme(scheme: string): boolean {
  if (scheme.length === 0) return false;
  for (let i = 0; i < scheme.length; i++) {
    const c = scheme.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) continue; // A-Z, a-z
    if (i > 0 && ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) continue; // 0-9 + - .
    return false;
  }
  return true;
}

/** 8.3.2: three digits, the first 1-9. */
function goodStatus(status: string): boolean {
  if (status.length !== 3) return false;
  const a = status.charCodeAt(0);
  const b = status.charCodeAt(1);
  const c = status.charCodeAt(2);
  return a >= 0x31 && a <= 0x39 && b >= 0x30 && b <= 0x39 && c >= 0x30 && c <= 0x39;
}

/**
 * Why the block is malformed as a `kind` message, or undefined. On every received block: pseudo-headers are
 * kept in locals, not a Map, and names and values checked by char code (no allocation on a well-formed block).
 */
export function checkHeaders(headers: ReadonlyArray<readonly [string, string]>, kind: MessageKind): string | undefined {
  let method: string | undefined;
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string | undefined;
  let protocol: string | undefined;
  let status: string | undefined;
  let regularSeen = false;
  for (let i = 0; i < headers.length; i++) {
    const field = headers[i]!;
    const name = field[0];
    const value = field[1];
    if (name.charCodeAt(0) === 0x3a) {
      // ':'
      if (kind === 'trailers') return `pseudo-header ${name} in trailers`;
      if (regularSeen) return `pseudo-header ${name} after a regular field`;
      let seen: string | undefined;
      let known = true;
      if (kind === 'request') {
        switch (name) {
          case ':method':
            seen = method;
            method = value;
            break;
          case ':scheme':
            seen = scheme;
            scheme = value;
            break;
          case ':authority':
            seen = authority;
            authority = value;
            break;
          case ':path':
            seen = path;
            path = value;
            break;
          case ':protocol':
            seen = protocol;
            protocol = value;
            break;
          default:
            known = false;
        }
      } else if (name === ':status') {
        seen = status;
        status = value;
      } else {
        known = false;
      }
      if (seen !== undefined) return `pseudo-header ${name} twice`;
      if (!known) return `pseudo-header ${name} in a ${kind}`;
      if (badValue(value)) return `bad value of ${name}`;
      continue;
    }
    regularSeen = true;
    if (badName(name)) return `bad field name ${JSON.stringify(name)}`;
    if (badValue(value)) return `bad value of ${name}`;
    if (CONNECTION_SPECIFIC.has(name)) return `connection-specific field ${name}`;
    if (name === 'te' && value !== 'trailers') return `te: ${value}`;
  }
  if (kind === 'request') {
    if (method === undefined) return 'request without :method';
    if (method === 'CONNECT' && protocol === undefined) {
      if (authority === undefined) return 'CONNECT without :authority';
      if (scheme !== undefined || path !== undefined) return 'CONNECT with :scheme or :path';
      return undefined;
    }
    if (protocol !== undefined && method !== 'CONNECT') return ':protocol outside CONNECT';
    if (protocol !== undefined && authority === undefined) return ':protocol without :authority';
    if (scheme === undefined) return 'request without :scheme';
    if (!goodScheme(scheme)) return `bad :scheme ${JSON.stringify(scheme)}`;
    if (path === undefined || path.length === 0) return 'request without :path';
    // 8.3.1: for http and https, an origin-form path, or "*" for OPTIONS (nghttp2's check_path).
    if ((scheme === 'http' || scheme === 'https') && path[0] !== '/' && !(path === '*' && method === 'OPTIONS')) {
      return `:path ${JSON.stringify(path.slice(0, 64))} is neither absolute nor * with OPTIONS`;
    }
    // 8.3.1: a request names its target by :authority or host (nghttp2 refuses one with neither). A host that
    // differs from :authority is let through, as nghttp2 does: the RFC's "SHOULD" is the application's to apply.
    if (authority === undefined && !headers.some(([name]) => name === 'host')) return 'request without :authority or host';
  }
  if (kind === 'response') {
    if (status === undefined || !goodStatus(status)) return `response :status ${status ?? 'missing'}`;
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
