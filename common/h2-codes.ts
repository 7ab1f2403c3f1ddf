// HTTP/2 error codes (RFC 9113 section 7) by number and by name: the proxy and the generator count and
// report resets by these names, so both must spell them alike.

export const H2_CODE_NAMES = [
  'NO_ERROR',
  'PROTOCOL_ERROR',
  'INTERNAL_ERROR',
  'FLOW_CONTROL_ERROR',
  'SETTINGS_TIMEOUT',
  'STREAM_CLOSED',
  'FRAME_SIZE_ERROR',
  'REFUSED_STREAM',
  'CANCEL',
  'COMPRESSION_ERROR',
  'CONNECT_ERROR',
  'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY',
  'HTTP_1_1_REQUIRED',
] as const;

export type H2CodeName = (typeof H2_CODE_NAMES)[number];

export const H2_CODE = Object.fromEntries(H2_CODE_NAMES.map((name, code) => [name, code])) as Record<H2CodeName, number>;

/**
 * The codes a benchmark meets in practice, which /metrics series (the proxy's and the harness's live ones) carry
 * at 0 from the start, so a panel shows 0 rather than no data (Prometheus's instrumentation guide: initialise
 * the label values you know of). Others appear when they first happen.
 */
export const COMMON_H2_CODES: readonly H2CodeName[] = ['NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'REFUSED_STREAM', 'CANCEL', 'ENHANCE_YOUR_CALM'];

/** The RFC 9113 name of an error code; unknown codes (extensions a peer may send) read as 0x<hex>. */
export function h2CodeName(code: number): string {
  return H2_CODE_NAMES[code] ?? `0x${code.toString(16)}`;
}
