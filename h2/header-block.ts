// Header blocks as they arrive (RFC 9113 sections 4.3, 6.2, 6.6, 6.10), bounded for hostile peers: a HEADERS or
// PUSH_PROMISE fragment joined with its CONTINUATION frames, nothing else allowed in between, and the flood
// bounds of a CONTINUATION attack: at most `maxContinuations` CONTINUATION frames and `maxBlockBytes` encoded
// octets per block. Past either bound the connection is answered ENHANCE_YOUR_CALM: the block cannot be
// decoded, so the HPACK tables are out of step and the connection cannot go on. The first piece of the
// connection layer (issue 15 step 2); it knows no sockets and no streams, only frames.
import { H2_ERROR, H2ProtocolError } from './errors.js';
import type { Frame, Priority } from './frame-parse.js';

/** nghttp2's NGHTTP2_DEFAULT_MAX_CONTINUATIONS: CONTINUATION frames allowed after one HEADERS. */
export const DEFAULT_MAX_CONTINUATIONS = 8;
/** Encoded octets of one header block: 64 KiB, as the decoded-list default (an encoded block is rarely larger than its list). */
export const DEFAULT_MAX_BLOCK_BYTES = 65_536;

export interface HeaderBlockLimits {
  maxContinuations?: number;
  maxBlockBytes?: number;
}

/** A whole header block and the frame that opened it. `block` is valid only during the call. */
export interface HeaderBlock {
  kind: 'HEADERS' | 'PUSH_PROMISE';
  streamId: number;
  endStream: boolean;
  priority: Priority | undefined;
  /** PUSH_PROMISE only (0 otherwise). */
  promisedStreamId: number;
  block: Buffer;
  /** CONTINUATION frames the block took. */
  continuations: number;
}

export class HeaderBlockAssembler {
  private open: Omit<HeaderBlock, 'block'> | undefined;
  private parts: Buffer[] = [];
  private bytes = 0;
  private readonly maxContinuations: number;
  private readonly maxBlockBytes: number;

  constructor(
    private readonly onBlock: (block: HeaderBlock) => void,
    limits: HeaderBlockLimits = {},
  ) {
    this.maxContinuations = limits.maxContinuations ?? DEFAULT_MAX_CONTINUATIONS;
    this.maxBlockBytes = limits.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
  }

  /** A block is open: the next frame must be its CONTINUATION. */
  get pending(): boolean {
    return this.open !== undefined;
  }

  /**
   * Every parsed frame of the connection, in order. Takes HEADERS, PUSH_PROMISE and CONTINUATION (returns true);
   * returns false for any other frame, which the caller handles, unless a block is open: then any other frame
   * (of any type, unknown ones included, RFC 9113 6.10) is a connection PROTOCOL_ERROR. DATA, which the
   * FrameReader hands to onData without parsing, the caller checks against `pending` itself.
   */
  frame(frame: Frame): boolean {
    if (this.open !== undefined && frame.type !== 'CONTINUATION') {
      throw new H2ProtocolError(H2_ERROR.PROTOCOL_ERROR, `${frame.type} frame inside the header block of stream ${this.open.streamId}`);
    }
    switch (frame.type) {
      case 'HEADERS':
      case 'PUSH_PROMISE': {
        const head = {
          kind: frame.type,
          streamId: frame.streamId,
          endStream: frame.type === 'HEADERS' && frame.endStream,
          priority: frame.type === 'HEADERS' ? frame.priority : undefined,
          promisedStreamId: frame.type === 'PUSH_PROMISE' ? frame.promisedStreamId : 0,
          continuations: 0,
        };
        this.count(frame.fragment.length);
        // Whole in one frame: handed over in place; else copied (the read buffer is reused).
        if (frame.endHeaders) return this.done(head, frame.fragment);
        this.open = head;
        this.parts = [Buffer.from(frame.fragment)];
        return true;
      }
      case 'CONTINUATION': {
        const open = this.open;
        if (open === undefined || frame.streamId !== open.streamId) {
          throw new H2ProtocolError(H2_ERROR.PROTOCOL_ERROR, `CONTINUATION on stream ${frame.streamId} without an open header block there`);
        }
        if (++open.continuations > this.maxContinuations) {
          throw new H2ProtocolError(H2_ERROR.ENHANCE_YOUR_CALM, `more than ${this.maxContinuations} CONTINUATION frames in one header block`);
        }
        this.count(frame.fragment.length);
        this.parts.push(Buffer.from(frame.fragment));
        if (!frame.endHeaders) return true;
        const block = Buffer.concat(this.parts);
        this.open = undefined;
        this.parts = [];
        return this.done(open, block);
      }
      default:
        return false;
    }
  }

  private count(n: number): void {
    this.bytes += n;
    if (this.bytes > this.maxBlockBytes) {
      throw new H2ProtocolError(H2_ERROR.ENHANCE_YOUR_CALM, `header block of more than ${this.maxBlockBytes} encoded octets`);
    }
  }

  private done(head: Omit<HeaderBlock, 'block'>, block: Buffer): true {
    this.bytes = 0;
    // Spelled out rather than `{ ...head, block }`: an object spread per header block was a tenth of the
    // in-memory pair's CPU profile (bench:micro's "h2: a whole request" row).
    this.onBlock({
      kind: head.kind,
      streamId: head.streamId,
      endStream: head.endStream,
      priority: head.priority,
      promisedStreamId: head.promisedStreamId,
      block,
      continuations: head.continuations,
    });
    return true;
  }
}
