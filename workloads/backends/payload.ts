// Response bodies: views of one preallocated zero-filled buffer, so answering costs no allocation.
import { MAX_RESPONSE_BYTES, MAX_STREAM_MESSAGES } from './config.js';

/** Request header that overrides the response size for one request (server streaming: each message's size). */
export const RESPONSE_BYTES_HEADER = 'x-sluice-response-bytes';
/** h2 request header: answer with a stream of this many messages (stream.ts). */
export const STREAM_MESSAGES_HEADER = 'x-sluice-stream-messages';
/** h2 response header of a stream of messages: the size of each, so that a client can cut them apart. */
export const MESSAGE_BYTES_HEADER = 'x-sluice-message-bytes';
/** Response header (gRPC: response metadata) naming the port of the endpoint that answered. */
export const ENDPOINT_HEADER = 'x-sluice-endpoint';

export class Payloads {
  private buffer: Buffer;

  constructor(readonly defaultBytes: number) {
    this.buffer = Buffer.alloc(defaultBytes);
  }

  /** `bytes` bytes (default: the configured size). Grows the shared buffer when a request asks for more; never mutated. */
  get(bytes = this.defaultBytes): Buffer {
    if (bytes > this.buffer.length) this.buffer = Buffer.alloc(bytes);
    return this.buffer.subarray(0, bytes);
  }
}

/** The size asked for in the x-sluice-response-bytes header: a number, or an error text for a 400 answer. */
export function requestedBytes(header: string | string[] | undefined, fallback: number): number | string {
  if (header === undefined) return fallback;
  const text = Array.isArray(header) ? header[0] ?? '' : header;
  if (!/^\d+$/.test(text.trim())) return `${RESPONSE_BYTES_HEADER}: "${text}" is not a whole number\n`;
  const bytes = Number(text.trim());
  if (bytes > MAX_RESPONSE_BYTES) return `${RESPONSE_BYTES_HEADER}: ${bytes} exceeds ${MAX_RESPONSE_BYTES}\n`;
  return bytes;
}

/** The stream asked for in the x-sluice-stream-messages header: undefined (none: a single response), a count, or an error text. */
export function requestedMessages(header: string | string[] | undefined): number | string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header[0] ?? '' : header;
  const count = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(count >= 1 && count <= MAX_STREAM_MESSAGES)) return `${STREAM_MESSAGES_HEADER}: "${text}" is not a whole number in 1..${MAX_STREAM_MESSAGES}\n`;
  return count;
}
