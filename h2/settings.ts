// SETTINGS (RFC 9113 6.5): the values each side announced, their RFC defaults, and the ones our connection
// announces unless told otherwise.
import { DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, SETTING } from './frames.js';
import { DEFAULT_MAX_HEADER_LIST_SIZE } from './hpack/decoder.js';

export interface Settings {
  headerTableSize: number;
  enablePush: boolean;
  maxConcurrentStreams: number;
  initialWindowSize: number;
  maxFrameSize: number;
  maxHeaderListSize: number;
}

/** RFC 9113 6.5.2's initial values: what a peer's settings are until its SETTINGS frame says otherwise. */
export const RFC_DEFAULTS: Readonly<Settings> = {
  headerTableSize: 4096,
  enablePush: true,
  maxConcurrentStreams: Infinity,
  initialWindowSize: DEFAULT_WINDOW,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: Infinity,
};

/** What our connection announces by default: 100 streams (RFC 9113 5.1.2's recommended minimum), no push, the 64 KiB header-list bound. */
export const LOCAL_DEFAULTS: Readonly<Settings> = {
  headerTableSize: 4096,
  enablePush: false,
  maxConcurrentStreams: 100,
  initialWindowSize: DEFAULT_WINDOW,
  maxFrameSize: DEFAULT_MAX_FRAME_SIZE,
  maxHeaderListSize: DEFAULT_MAX_HEADER_LIST_SIZE,
};

/** Our settings as SETTINGS entries (only those that differ from the RFC's initial values, plus ENABLE_PUSH = 0). */
export function settingsEntries(s: Settings): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  if (s.headerTableSize !== RFC_DEFAULTS.headerTableSize) out.push([SETTING.HEADER_TABLE_SIZE, s.headerTableSize]);
  if (!s.enablePush) out.push([SETTING.ENABLE_PUSH, 0]);
  if (Number.isFinite(s.maxConcurrentStreams)) out.push([SETTING.MAX_CONCURRENT_STREAMS, s.maxConcurrentStreams]);
  if (s.initialWindowSize !== RFC_DEFAULTS.initialWindowSize) out.push([SETTING.INITIAL_WINDOW_SIZE, s.initialWindowSize]);
  if (s.maxFrameSize !== RFC_DEFAULTS.maxFrameSize) out.push([SETTING.MAX_FRAME_SIZE, s.maxFrameSize]);
  if (Number.isFinite(s.maxHeaderListSize)) out.push([SETTING.MAX_HEADER_LIST_SIZE, s.maxHeaderListSize]);
  return out;
}
