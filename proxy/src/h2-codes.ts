// HTTP/2 error codes (the names live in common/) and how the proxy tells a peer's reset from its own.

import { H2_CODE } from '../../common/h2-codes.js';

export { COMMON_H2_CODES, H2_CODE, H2_CODE_NAMES, h2CodeName, type H2CodeName } from '../../common/h2-codes.js';

/** Whether a closed stream was reset by its peer (RST_STREAM received) rather than by us or by the end of
 *  its session. Node reports all three as stream.rstCode, so the caller says whether it sent the reset and
 *  passes the last 'error' the stream emitted: a peer reset is ERR_HTTP2_STREAM_ERROR, or no error at all
 *  for CANCEL (Node does not emit CANCEL as an error); a session teardown destroys the session first. */
export function isPeerReset(
  code: number | undefined,
  opts: { resetByUs: boolean; sessionDestroyed: boolean; lastError: unknown },
): code is number {
  if (code === undefined || code === H2_CODE.NO_ERROR || opts.resetByUs || opts.sessionDestroyed) return false;
  const errCode = (opts.lastError as { code?: unknown } | undefined)?.code;
  return opts.lastError === undefined || errCode === 'ERR_HTTP2_STREAM_ERROR';
}
