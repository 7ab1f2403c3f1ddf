// An encoded HdrHistogram (compressed base64, µs) decoded with hdr-histogram-js's JS implementation, for the
// formatters that walk its values: pure, no WebAssembly to set up.
// The library's files, not its index: the index loads every histogram kind and the log writer, whose formatters
// start Intl at import (some 30 ms of CPU at every start of the CLI that only prints a table at the end).
import type { Histogram, JsHistogram } from 'hdr-histogram-js';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js/dist/encoding.js';

/** `walk` over the decoded histogram, freed afterwards; `empty` if it holds nothing. */
export function walkEncoded<T>(encoded: string, empty: T, walk: (h: JsHistogram) => T): T {
  const h = decodeFromCompressedBase64(encoded, 32, false);
  try {
    return isJsHistogram(h) && h.totalCount > 0 ? walk(h) : empty;
  } finally {
    h.destroy();
  }
}

/** Decoded without WebAssembly, the histogram is the JS kind; a type guard, not an instanceof, to import no index. */
function isJsHistogram(h: Histogram): h is JsHistogram {
  return 'recordedValuesIterator' in h && 'percentileIterator' in h;
}
