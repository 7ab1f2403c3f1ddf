// HPACK's Huffman code (RFC 7541 Appendix B). The code is canonical (codes of one length are consecutive,
// in symbol order, shorter lengths first), so the table is fully given by each symbol's code length; the
// codes are rebuilt from them here. Decoding walks a 4-bit state machine built once from the code tree.
import { H2ProtocolError } from '../errors.js';

const COMPRESSION_ERROR = 0x9;
const EOS = 256;

/** Code length in bits of symbols 0..256 (256 is EOS), from RFC 7541 Appendix B. */
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

/** The canonical codes: CODES[sym] is CODE_LENGTHS[sym] bits long, right-aligned. */
export const CODES: readonly number[] = (() => {
  const order = CODE_LENGTHS.map((_, sym) => sym).sort((a, b) => CODE_LENGTHS[a]! - CODE_LENGTHS[b]! || a - b);
  const codes = new Array<number>(CODE_LENGTHS.length).fill(0);
  let code = 0;
  let length = CODE_LENGTHS[order[0]!]!;
  order.forEach((sym, i) => {
    if (i > 0) code = (code + 1) * 2 ** (CODE_LENGTHS[sym]! - length);
    length = CODE_LENGTHS[sym]!;
    codes[sym] = code;
  });
  return codes;
})();

// The decoding state machine: a state is an internal node of the code tree (0 = root); feeding it a nibble
// (4 bits, most significant first) gives the next state and at most one symbol (every code is >= 5 bits).
const NO_SYMBOL = -1;
const FAIL = -2;
const { next: NEXT, emit: EMIT, acceptsEnd: ACCEPTS_END } = (() => {
  // Tree: child[node * 2 + bit] is a node (> 0), a leaf (-(sym + 1)), or 0 when not yet made.
  const child = new Int32Array(512 * 2);
  const depth = [0];
  const ones = [true];
  let nodes = 1;
  CODES.forEach((code, sym) => {
    const length = CODE_LENGTHS[sym]!;
    let node = 0;
    for (let i = length - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      const at = node * 2 + bit;
      if (i === 0) {
        child[at] = -(sym + 1);
      } else {
        if (child[at] === 0) {
          child[at] = nodes;
          depth.push(depth[node]! + 1);
          ones.push(ones[node]! && bit === 1);
          nodes++;
        }
        node = child[at]!;
      }
    }
  });
  const next = new Uint16Array(nodes * 16);
  const emit = new Int16Array(nodes * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let out = NO_SYMBOL;
      for (let b = 3; b >= 0; b--) {
        const target = child[node * 2 + ((nibble >> b) & 1)]!;
        if (target < 0) {
          out = -target - 1 === EOS ? FAIL : -target - 1;
          node = 0;
          if (out === FAIL) break;
        } else {
          node = target;
        }
      }
      next[state * 16 + nibble] = node;
      emit[state * 16 + nibble] = out;
    }
  }
  // Padding (section 5.2): at most 7 bits, all ones, the start of EOS.
  const acceptsEnd = Array.from({ length: nodes }, (_, n) => n === 0 || (ones[n]! && depth[n]! <= 7));
  return { next, emit, acceptsEnd };
})();

let scratch = Buffer.allocUnsafe(256);

/** Decodes buf[start, end) to a latin1 string; throws COMPRESSION_ERROR on EOS or bad padding. */
export function huffmanDecode(buf: Buffer, start: number, end: number): string {
  // The shortest code is 5 bits, so n bytes hold at most 8n/5 symbols.
  const max = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < max) scratch = Buffer.allocUnsafe(max * 2);
  const out = scratch;
  let n = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    let at = state * 16 + (byte >> 4);
    let sym = EMIT[at]!;
    if (sym >= 0) out[n++] = sym;
    else if (sym === FAIL) throw new H2ProtocolError(COMPRESSION_ERROR, 'Huffman string contains EOS');
    state = NEXT[at]!;
    at = state * 16 + (byte & 0xf);
    sym = EMIT[at]!;
    if (sym >= 0) out[n++] = sym;
    else if (sym === FAIL) throw new H2ProtocolError(COMPRESSION_ERROR, 'Huffman string contains EOS');
    state = NEXT[at]!;
  }
  if (!ACCEPTS_END[state]) throw new H2ProtocolError(COMPRESSION_ERROR, 'Huffman string has invalid padding');
  return out.toString('latin1', 0, n);
}

/** The length in octets of `text`'s Huffman code (padding included), without encoding it. */
export function huffmanLength(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) bits += CODE_LENGTHS[text.charCodeAt(i) & 0xff]!;
  return Math.ceil(bits / 8);
}

/** Encodes a latin1 string (for tests and for anyone who wants compressed literals). */
export function huffmanEncode(text: string): Buffer {
  const bytes: number[] = [];
  // acc holds fewer than 8 + 30 pending bits: exact in a double.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const sym = text.charCodeAt(i) & 0xff;
    acc = acc * 2 ** CODE_LENGTHS[sym]! + CODES[sym]!;
    bits += CODE_LENGTHS[sym]!;
    while (bits >= 8) {
      bits -= 8;
      const scale = 2 ** bits;
      bytes.push(Math.floor(acc / scale));
      acc %= scale;
    }
  }
  if (bits > 0) bytes.push(acc * 2 ** (8 - bits) + (2 ** (8 - bits) - 1));
  return Buffer.from(bytes);
}
