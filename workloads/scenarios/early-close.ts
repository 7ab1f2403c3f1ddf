// Seed 001 (Envoy): the upstream answers 413 before reading a large upload, then closes. Unless the proxy delays
// its close (half-close, keep reading until the client is done or a timeout), the client is reset while still
// uploading and never reads the 413. Axis: delayedCloseMs (0 = off). Headline: share of requests whose client
// received the 413 rather than a reset.
// The upstream closes as a well-behaved server does (a lingering close, --early-linger), so the 413 always
// reaches the proxy and the one close measured is the proxy's own toward its client. An upstream that closes
// at once resets the proxy's upload too, and then no setting of the proxy can save the answer.
import type { ScenarioDef } from './types.js';

const BODY_BYTES = 1 << 20;
/** The write-then-read client's upload: larger than loopback's socket buffers, so it is still sending when the answer comes. */
const UPLOAD_BYTES = 8 << 20;

export const earlyClose: ScenarioDef = {
  name: 'early-close',
  source: "seed 001 (Envoy): a server's early response before the body is read, then a close: the client sees a reset",
  summary: `the upstream answers 413 before reading an upload; headline: share of write-then-read clients (curl's way, ${UPLOAD_BYTES >> 20} MiB uploads) that read the 413 instead of a reset`,
  protocols: ['h1'],
  setup: () => ({
    backend: { earlyStatus: 413, earlyLingerMs: 2000 },
    client: { method: 'POST', bodyBytes: BODY_BYTES },
    uploader: { bodyBytes: UPLOAD_BYTES },
    traceMs: 100,
  }),
  outcome: (o) => {
    const uploads = o.uploads ?? { attempts: 0, answered: {}, failed: {} };
    const delivered = uploads.answered['413'] ?? 0;
    // The generator's client reads while it writes, so it usually reads the answer even under a reset.
    const readWhileWriting = o.requests > 0 ? ((o.errors['status:4xx'] ?? 0) / o.requests) * 100 : 0;
    return {
      headline: { name: '413 delivered', value: uploads.attempts > 0 ? (delivered / uploads.attempts) * 100 : 0, unit: '%', better: 'higher' },
      uploads,
      readWhileWritingDeliveredPct: readWhileWriting,
    };
  },
};
