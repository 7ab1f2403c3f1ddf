// What the generator asks of the sluice backends beyond the request itself, and how their streamed messages
// are stamped: the contract workloads/backends/payload.ts honours (repeated here, as harness/load imports no
// backend code). Header lists are encoded once per run, so none of this costs a request anything.
import type { LoadOptions } from './types.js';

/** Request header: the response size (server-streaming: each message's size). */
export const RESPONSE_BYTES_HEADER = 'x-sluice-response-bytes';
/** Request header (h2): answer with a stream of this many messages. */
export const STREAM_MESSAGES_HEADER = 'x-sluice-stream-messages';
/** Response header of an h2 stream of messages: the size of each, so the client can cut them apart. */
export const MESSAGE_BYTES_HEADER = 'x-sluice-message-bytes';
/** Response header (gRPC: response metadata) of sluice's backends: the endpoint (its port) that answered. */
export const ENDPOINT_HEADER = 'x-sluice-endpoint';
/** Each streamed message starts with the time it was written: float64 little-endian, epoch milliseconds. */
export const STAMP_BYTES = 8;
export const DEFAULT_STREAM_MESSAGES = 10;

export const SCENARIOS: readonly NonNullable<LoadOptions['scenario']>[] = ['unary', 'large-body', 'server-streaming'];

export function isServerStreaming(options: LoadOptions): boolean {
  return options.scenario === 'server-streaming';
}

/** Messages each server stream should carry. */
export function streamMessages(options: LoadOptions): number {
  return options.streamMessages ?? DEFAULT_STREAM_MESSAGES;
}

/** The h1/h2 request headers that ask for a response size and, server-streaming, a stream of messages. */
export function payloadHeaders(options: LoadOptions): [name: string, value: string][] {
  const headers: [string, string][] = [];
  if (options.responseBytes !== undefined) headers.push([RESPONSE_BYTES_HEADER, String(options.responseBytes)]);
  if (isServerStreaming(options)) headers.push([STREAM_MESSAGES_HEADER, String(streamMessages(options))]);
  return headers;
}
