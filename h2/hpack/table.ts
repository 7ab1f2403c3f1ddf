// HPACK's static table (RFC 7541 Appendix A) and its integer representation (section 5.1), shared by the
// encoder and the decoder.
import { H2ProtocolError } from '../errors.js';

/** STATIC_TABLE[i - 1] is static index i (1..61). */
export const STATIC_TABLE: ReadonlyArray<readonly [name: string, value: string]> = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

export const STATIC_COUNT = STATIC_TABLE.length;

/** Appends `value` with an N-bit prefix; `high` holds the representation's leading bits. */
export function encodeInteger(out: number[], value: number, prefixBits: number, high: number): void {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) {
    out.push(high | value);
    return;
  }
  out.push(high | limit);
  let rest = value - limit;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** A decoded integer and where the representation ends. Reused: copy the fields out before the next call. */
export interface IntegerAt {
  value: number;
  next: number;
}

const COMPRESSION_ERROR = 0x9;
// More than 2^31 is no header size or index anyone may send.
const INTEGER_LIMIT = 2 ** 31;

/** Reads an N-bit-prefix integer starting at buf[at]; throws COMPRESSION_ERROR if cut short or too large. */
export function decodeInteger(buf: Buffer, at: number, end: number, prefixBits: number, into: IntegerAt): IntegerAt {
  const limit = (1 << prefixBits) - 1;
  let value = buf[at]! & limit;
  at++;
  if (value === limit) {
    // At most 5 continuation octets (35 bits) and never above 2^31: beyond that, zero octets would only pad
    // the representation, and a scale past 2^53 would lose precision.
    let shift = 0;
    for (;;) {
      if (at >= end) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK integer cut short');
      if (shift > 28) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK integer with too many octets');
      const byte = buf[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (value > INTEGER_LIMIT) throw new H2ProtocolError(COMPRESSION_ERROR, 'HPACK integer too large');
      if ((byte & 0x80) === 0) break;
    }
  }
  into.value = value;
  into.next = at;
  return into;
}
