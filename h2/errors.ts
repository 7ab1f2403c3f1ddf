// The library's errors and RFC 9113 section 7's error codes. The codes are kept here (not imported from
// common/) so that h2/ stands alone; common/h2-codes.ts spells the same numbers by name for reports.

export const H2_ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

/** A violation of RFC 9113 / RFC 7541 by the peer: a connection error with this code (section 5.4.1). */
export class H2ProtocolError extends Error {
  constructor(
    readonly h2Code: number,
    message: string,
  ) {
    super(message);
    this.name = 'H2ProtocolError';
  }
}

/**
 * A stream error (RFC 9113 section 5.4.2): the connection answers RST_STREAM(h2Code) on `streamId` and
 * carries on (e.g. WINDOW_UPDATE with increment 0 on a stream, a PRIORITY frame of the wrong length).
 */
export class H2StreamError extends Error {
  constructor(
    readonly streamId: number,
    readonly h2Code: number,
    message: string,
  ) {
    super(message);
    this.name = 'H2StreamError';
  }
}

/**
 * A header block whose DECODED list exceeds the bound (SETTINGS_MAX_HEADER_LIST_SIZE semantics, RFC 9113
 * section 6.5.2: name + value + 32 octets per field). The decoder has read the whole block before throwing,
 * so its dynamic table stays in step with the peer's encoder and the connection may carry on: a server answers
 * the stream with 431 (Request Header Fields Too Large), or RST_STREAM when it cannot.
 */
export class HeaderListTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`decoded header list of at least ${size} octets exceeds ${limit}`);
    this.name = 'HeaderListTooLargeError';
  }
}

/** Every error the library throws on peer input. */
export type H2InputError = H2ProtocolError | H2StreamError | HeaderListTooLargeError;

export function isH2InputError(err: unknown): err is H2InputError {
  return err instanceof H2ProtocolError || err instanceof H2StreamError || err instanceof HeaderListTooLargeError;
}
