// Short string literals a peer sends again and again, decoded once. Encoders keep some fields out of the
// dynamic table on purpose (nghttp2 never indexes :path or content-length), so a steady stream of requests or
// answers carries the same literal octets in every header block; without this, each one is decoded into a new
// string (a Buffer slice through C++ for plain octets, a Huffman walk otherwise).
// Keyed by the literal's encoded octets and its Huffman bit (octet-keys.ts), which alone determine the text, so
// a hit is exact.
import { OctetKeys } from './octet-keys.js';

/** Literals longer than this are decoded every time: comparing them would cost about as much. */
export const MAX_CACHED_LITERAL = 48;
const SLOTS = 8;

export class LiteralCache {
  private readonly keys = new OctetKeys(SLOTS, MAX_CACHED_LITERAL);
  private readonly texts: string[] = new Array<string>(SLOTS).fill('');

  /** The text of buf[from, to) as encoded (`huffman` or plain octets), if it was stored; else undefined. */
  get(buf: Uint8Array, from: number, to: number, huffman: boolean): string | undefined {
    const slot = this.keys.find(buf, from, to, huffman ? 1 : 0);
    return slot < 0 ? undefined : this.texts[slot];
  }

  /** Keeps `text` as the decoding of buf[from, to) (short literals only), in place of whatever had its slot. */
  set(buf: Uint8Array, from: number, to: number, huffman: boolean, text: string): void {
    const slot = this.keys.claim(buf, from, to, huffman ? 1 : 0);
    if (slot >= 0) this.texts[slot] = text;
  }
}
