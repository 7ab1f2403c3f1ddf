// Frame payloads (RFC 9113 section 6) parsed and checked: every frame type, with the size rules of 4.2 and
// 6.x and the stream-id rules of each type. A frame the FrameReader cut out (type, flags, stream, payload
// buf[start, end)) becomes a typed value or a typed error: H2ProtocolError for a connection error,
// H2StreamError for a stream error. Views, not copies: a returned Buffer is valid as long as `buf` is.
import { H2_ERROR, H2ProtocolError, H2StreamError } from './errors.js';
import { FLAG, FRAME, MAX_WINDOW, SETTING } from './frames.js';

const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, FLOW_CONTROL_ERROR } = H2_ERROR;
/** RFC 9113 6.5.2: SETTINGS_MAX_FRAME_SIZE lies in [2^14, 2^24 - 1]. */
export const MIN_MAX_FRAME_SIZE = 2 ** 14;
export const MAX_MAX_FRAME_SIZE = 2 ** 24 - 1;

export interface Priority {
  exclusive: boolean;
  dependsOn: number;
  /** 1..256 (the octet plus one). */
  weight: number;
}

export type Frame =
  | { type: 'DATA'; streamId: number; endStream: boolean; data: Buffer; padLength: number; flowBytes: number }
  | { type: 'HEADERS'; streamId: number; endStream: boolean; endHeaders: boolean; priority: Priority | undefined; fragment: Buffer; padLength: number }
  | { type: 'PRIORITY'; streamId: number; priority: Priority }
  | { type: 'RST_STREAM'; streamId: number; code: number }
  | { type: 'SETTINGS'; ack: boolean; settings: Array<[id: number, value: number]> }
  | { type: 'PUSH_PROMISE'; streamId: number; endHeaders: boolean; promisedStreamId: number; fragment: Buffer; padLength: number }
  | { type: 'PING'; ack: boolean; opaque: Buffer }
  | { type: 'GOAWAY'; lastStreamId: number; code: number; debug: Buffer }
  | { type: 'WINDOW_UPDATE'; streamId: number; increment: number }
  | { type: 'CONTINUATION'; streamId: number; endHeaders: boolean; fragment: Buffer }
  | { type: 'UNKNOWN'; frameType: number; flags: number; streamId: number; payload: Buffer };

function connError(code: number, message: string): never {
  throw new H2ProtocolError(code, message);
}

function onStream(name: string, streamId: number): void {
  if (streamId === 0) connError(PROTOCOL_ERROR, `${name} on stream 0`);
}

function onConnection(name: string, streamId: number): void {
  if (streamId !== 0) connError(PROTOCOL_ERROR, `${name} on stream ${streamId}`);
}

/** Strips padding (6.1, 6.2, 6.6): returns [start, end, padLength] of what lies between. */
function unpad(name: string, flags: number, buf: Buffer, start: number, end: number): [number, number, number] {
  if ((flags & FLAG.PADDED) === 0) return [start, end, 0];
  if (start >= end) connError(FRAME_SIZE_ERROR, `padded ${name} without a pad length`);
  const padLength = buf[start]!;
  // "Padding that exceeds the size remaining for the header block fragment MUST be treated as a PROTOCOL_ERROR."
  if (padLength > end - start - 1) connError(PROTOCOL_ERROR, `${name} padding ${padLength} exceeds the frame`);
  return [start + 1, end - padLength, padLength];
}

function priorityAt(buf: Buffer, at: number): Priority {
  const word = buf.readUInt32BE(at);
  return { exclusive: word >= 0x8000_0000, dependsOn: word & MAX_WINDOW, weight: buf[at + 4]! + 1 };
}

/** Parses one frame whose whole payload is buf[start, end); throws the typed errors of RFC 9113. */
export function parseFrame(type: number, flags: number, streamId: number, buf: Buffer, start: number, end: number): Frame {
  const length = end - start;
  switch (type) {
    case FRAME.DATA: {
      onStream('DATA', streamId);
      const [from, to, padLength] = unpad('DATA', flags, buf, start, end);
      return { type: 'DATA', streamId, endStream: (flags & FLAG.END_STREAM) !== 0, data: buf.subarray(from, to), padLength, flowBytes: length };
    }
    case FRAME.HEADERS: {
      onStream('HEADERS', streamId);
      const [fragmentStart, to, padLength] = unpad('HEADERS', flags, buf, start, end);
      let from = fragmentStart;
      let priority: Priority | undefined;
      if (flags & FLAG.PRIORITY) {
        if (to - from < 5) connError(FRAME_SIZE_ERROR, 'HEADERS too short for its priority fields');
        priority = priorityAt(buf, from);
        from += 5;
        if (priority.dependsOn === streamId) throw new H2StreamError(streamId, PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
      }
      return {
        type: 'HEADERS',
        streamId,
        endStream: (flags & FLAG.END_STREAM) !== 0,
        endHeaders: (flags & FLAG.END_HEADERS) !== 0,
        priority,
        fragment: buf.subarray(from, to),
        padLength,
      };
    }
    case FRAME.PRIORITY: {
      onStream('PRIORITY', streamId);
      if (length !== 5) throw new H2StreamError(streamId, FRAME_SIZE_ERROR, `PRIORITY of ${length} octets, not 5`);
      const priority = priorityAt(buf, start);
      if (priority.dependsOn === streamId) throw new H2StreamError(streamId, PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
      return { type: 'PRIORITY', streamId, priority };
    }
    case FRAME.RST_STREAM:
      onStream('RST_STREAM', streamId);
      if (length !== 4) connError(FRAME_SIZE_ERROR, `RST_STREAM of ${length} octets, not 4`);
      return { type: 'RST_STREAM', streamId, code: buf.readUInt32BE(start) };
    case FRAME.SETTINGS:
      return parseSettings(flags, streamId, buf, start, end);
    case FRAME.PUSH_PROMISE: {
      onStream('PUSH_PROMISE', streamId);
      const [from, to, padLength] = unpad('PUSH_PROMISE', flags, buf, start, end);
      if (to - from < 4) connError(FRAME_SIZE_ERROR, 'PUSH_PROMISE too short for its promised stream id');
      const promisedStreamId = buf.readUInt32BE(from) & MAX_WINDOW;
      return { type: 'PUSH_PROMISE', streamId, endHeaders: (flags & FLAG.END_HEADERS) !== 0, promisedStreamId, fragment: buf.subarray(from + 4, to), padLength };
    }
    case FRAME.PING:
      onConnection('PING', streamId);
      if (length !== 8) connError(FRAME_SIZE_ERROR, `PING of ${length} octets, not 8`);
      return { type: 'PING', ack: (flags & FLAG.ACK) !== 0, opaque: buf.subarray(start, end) };
    case FRAME.GOAWAY:
      onConnection('GOAWAY', streamId);
      if (length < 8) connError(FRAME_SIZE_ERROR, `GOAWAY of ${length} octets, fewer than 8`);
      return { type: 'GOAWAY', lastStreamId: buf.readUInt32BE(start) & MAX_WINDOW, code: buf.readUInt32BE(start + 4), debug: buf.subarray(start + 8, end) };
    case FRAME.WINDOW_UPDATE: {
      if (length !== 4) connError(FRAME_SIZE_ERROR, `WINDOW_UPDATE of ${length} octets, not 4`);
      const increment = buf.readUInt32BE(start) & MAX_WINDOW;
      if (increment === 0) {
        // RFC 9113 6.9: a stream error on a stream, a connection error on the connection's window.
        if (streamId === 0) connError(PROTOCOL_ERROR, 'WINDOW_UPDATE with increment 0 on the connection');
        throw new H2StreamError(streamId, PROTOCOL_ERROR, `WINDOW_UPDATE with increment 0 on stream ${streamId}`);
      }
      return { type: 'WINDOW_UPDATE', streamId, increment };
    }
    case FRAME.CONTINUATION:
      onStream('CONTINUATION', streamId);
      return { type: 'CONTINUATION', streamId, endHeaders: (flags & FLAG.END_HEADERS) !== 0, fragment: buf.subarray(start, end) };
    default:
      // 5.5: frames of unknown types are ignored (the connection still checks they do not split a header block).
      return { type: 'UNKNOWN', frameType: type, flags, streamId, payload: buf.subarray(start, end) };
  }
}

function parseSettings(flags: number, streamId: number, buf: Buffer, start: number, end: number): Frame {
  onConnection('SETTINGS', streamId);
  const length = end - start;
  const ack = (flags & FLAG.ACK) !== 0;
  if (ack) {
    if (length !== 0) connError(FRAME_SIZE_ERROR, `SETTINGS ACK with ${length} octets of payload`);
    return { type: 'SETTINGS', ack, settings: [] };
  }
  if (length % 6 !== 0) connError(FRAME_SIZE_ERROR, `SETTINGS of ${length} octets, not a multiple of 6`);
  const settings: Array<[number, number]> = [];
  for (let at = start; at < end; at += 6) {
    const id = buf.readUInt16BE(at);
    const value = buf.readUInt32BE(at + 2);
    if (id === SETTING.ENABLE_PUSH && value > 1) connError(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${value}`);
    if (id === SETTING.INITIAL_WINDOW_SIZE && value > MAX_WINDOW) connError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
    if (id === SETTING.MAX_FRAME_SIZE && (value < MIN_MAX_FRAME_SIZE || value > MAX_MAX_FRAME_SIZE)) connError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
    // Unknown identifiers are kept in the list; 6.5.2 says to ignore them, which the connection does.
    settings.push([id, value]);
  }
  return { type: 'SETTINGS', ack, settings };
}
