// HPACK encoding for a generator whose request headers never change during a run: the block is encoded
// once and its bytes reused for every request. It uses only the static table and literals without
// indexing (RFC 7541 sections 6.1 and 6.2.2), so it never touches the peer's dynamic table: the same
// bytes stay valid on every connection and for every request.
import { encodeInteger, STATIC_TABLE } from './hpack-table.js';

export type HeaderList = ReadonlyArray<readonly [name: string, value: string]>;

/** Encodes header fields (names lower-case, pseudo-headers first) as one HPACK header block. */
export function encodeHeaderBlock(headers: HeaderList): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    if (name !== name.toLowerCase()) throw new RangeError(`header name "${name}" must be lower-case in HTTP/2`);
    let nameIndex = 0;
    let fullIndex = 0;
    STATIC_TABLE.forEach(([n, v], i) => {
      if (n !== name) return;
      if (nameIndex === 0) nameIndex = i + 1;
      if (v === value && fullIndex === 0) fullIndex = i + 1;
    });
    if (fullIndex > 0) {
      encodeInteger(out, fullIndex, 7, 0x80); // indexed header field
      continue;
    }
    encodeInteger(out, nameIndex, 4, 0x00); // literal without indexing; index 0 = the name follows as a literal
    if (nameIndex === 0) pushString(out, name);
    pushString(out, value);
  }
  return Buffer.from(out);
}

/** A string literal, not Huffman-coded (H = 0): the block is encoded once, so size hardly matters. */
function pushString(out: number[], text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  encodeInteger(out, bytes.length, 7, 0x00);
  for (const byte of bytes) out.push(byte);
}
