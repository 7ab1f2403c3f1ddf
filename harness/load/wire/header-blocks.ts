// Header blocks as they arrive (RFC 9113 sections 6.2 and 6.10): a HEADERS frame's padding and priority
// stripped, fragments over CONTINUATION frames joined, nothing else allowed in between.
import { FLAG, H2ProtocolError } from '../../../h2/frames.js';

const PROTOCOL_ERROR = 0x1;

export type BlockHandler = (streamId: number, flags: number, block: Buffer, start: number, end: number) => void;

export class HeaderBlocks {
  private streamId = 0;
  private flags = 0;
  private parts: Buffer[] | undefined;

  constructor(private readonly onBlock: BlockHandler) {}

  /** A block is open: the next frame must be its CONTINUATION (any other is a PROTOCOL_ERROR). */
  get pending(): boolean {
    return this.parts !== undefined;
  }

  headers(flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (streamId === 0) throw new H2ProtocolError(PROTOCOL_ERROR, 'HEADERS on stream 0');
    if (flags & FLAG.PADDED) end -= buf[start++]!;
    if (flags & FLAG.PRIORITY) start += 5;
    if (start > end) throw new H2ProtocolError(PROTOCOL_ERROR, 'HEADERS padding or priority exceeds the frame');
    if (flags & FLAG.END_HEADERS) return this.onBlock(streamId, flags, buf, start, end);
    // Copied: the frame's bytes belong to a read buffer that is reused.
    this.streamId = streamId;
    this.flags = flags;
    this.parts = [Buffer.from(buf.subarray(start, end))];
  }

  continuation(flags: number, streamId: number, buf: Buffer, start: number, end: number): void {
    if (this.parts === undefined || streamId !== this.streamId) throw new H2ProtocolError(PROTOCOL_ERROR, 'unexpected CONTINUATION');
    this.parts.push(Buffer.from(buf.subarray(start, end)));
    if ((flags & FLAG.END_HEADERS) === 0) return;
    const block = Buffer.concat(this.parts);
    this.parts = undefined;
    this.onBlock(this.streamId, this.flags, block, 0, block.length);
  }
}
