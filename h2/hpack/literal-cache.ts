// Short string literals a peer sends again and again, decoded once. Encoders keep some fields out of the
// dynamic table on purpose (nghttp2 never indexes :path or content-length), so a steady stream of requests or
// answers carries the same literal octets in every header block; without this, each one is decoded into a new
// string (a Buffer slice through C++ for plain octets, a Huffman walk otherwise).
// Keyed by the literal's encoded octets and its Huffman bit, which alone determine the text, so a hit is exact.

/** Literals longer than this are decoded every time: comparing them would cost about as much. */
export const MAX_CACHED_LITERAL = 48;
const SLOTS = 8;

export class LiteralCache {
  private readonly octets = new Uint8Array(SLOTS * MAX_CACHED_LITERAL);
  /** Per slot: the encoded length, or -1 for an empty slot. */
  private readonly lengths = new Int16Array(SLOTS).fill(-1);
  private readonly huffman = new Uint8Array(SLOTS);
  private readonly texts: string[] = new Array<string>(SLOTS).fill('');

  /** The text of buf[from, to) as encoded (`huffman` or plain octets), if it was stored; else undefined. */
  get(buf: Uint8Array, from: number, to: number, huffman: boolean): string | undefined {
    const length = to - from;
    if (length > MAX_CACHED_LITERAL || length === 0) return undefined;
    const slot = slotOf(buf, from, length);
    if (this.lengths[slot] !== length || this.huffman[slot] !== (huffman ? 1 : 0)) return undefined;
    const base = slot * MAX_CACHED_LITERAL;
    for (let i = 0; i < length; i++) if (this.octets[base + i] !== buf[from + i]) return undefined;
    return this.texts[slot];
  }

  /** Keeps `text` as the decoding of buf[from, to) (short literals only), in place of whatever had its slot. */
  set(buf: Uint8Array, from: number, to: number, huffman: boolean, text: string): void {
    const length = to - from;
    if (length > MAX_CACHED_LITERAL || length === 0) return;
    const slot = slotOf(buf, from, length);
    this.octets.set(buf.subarray(from, to), slot * MAX_CACHED_LITERAL);
    this.lengths[slot] = length;
    this.huffman[slot] = huffman ? 1 : 0;
    this.texts[slot] = text;
  }
}

/** Direct-mapped by length and the first and last octets: distinct literals of one block rarely collide. */
function slotOf(buf: Uint8Array, from: number, length: number): number {
  return (length ^ buf[from]! ^ (buf[from + length - 1]! << 1)) & (SLOTS - 1);
}
