// h2load's end-of-run summary on stdout (nghttp2 1.52), e.g.
//   requests: 4295 total, 4303 started, 4295 done, 3222 succeeded, 1073 failed, 1073 errored, 0 timeout
//   status codes: 3222 2xx, 0 3xx, 0 4xx, 0 5xx
//   traffic: 98.74KB (101109) total, 12.71KB (13018) headers (space savings 93.38%), 15.73KB (16110) data
// In a -D run every count covers the main duration only (not the warm-up). h2load's doc: `failed` is every
// request that did not end in 2xx/3xx, `errored` the subset that failed below HTTP (reset, connection lost),
// `timeout` the subset of `errored` cut by a connection timeout.

export interface H2loadSummary {
  requests: { total: number; started: number; done: number; succeeded: number; failed: number; errored: number; timeout: number };
  statusCodes: { '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** Bytes received: everything, response headers (compressed), response bodies. */
  trafficBytes: { total: number; headers: number; data: number };
}

const REQUESTS = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout\s*$/m;
const STATUS = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx\s*$/m;
const TRAFFIC = /^traffic: \S+ \((\d+)\) total, \S+ \((\d+)\) headers .*, \S+ \((\d+)\) data\s*$/m;

/** The summary, or undefined when stdout holds none (h2load failed before measuring). Traffic is optional in the text. */
export function parseH2loadSummary(stdout: string): H2loadSummary | undefined {
  const r = REQUESTS.exec(stdout);
  const s = STATUS.exec(stdout);
  if (!r || !s) return undefined;
  const t = TRAFFIC.exec(stdout);
  const n = (m: RegExpExecArray, i: number): number => Number(m[i]);
  return {
    requests: { total: n(r, 1), started: n(r, 2), done: n(r, 3), succeeded: n(r, 4), failed: n(r, 5), errored: n(r, 6), timeout: n(r, 7) },
    statusCodes: { '2xx': n(s, 1), '3xx': n(s, 2), '4xx': n(s, 3), '5xx': n(s, 4) },
    trafficBytes: t ? { total: n(t, 1), headers: n(t, 2), data: n(t, 3) } : { total: 0, headers: 0, data: 0 },
  };
}

/** "nghttp2/1.52.0" in `h2load --version`. */
export function parseH2loadVersion(stdout: string): string | undefined {
  return /nghttp2\/(\d+\.\d+\.\d+\S*)/.exec(stdout)?.[1];
}

/** The phase lines h2load prints per thread in a timing-based (-D) run. */
export const MEASURE_STARTED = /Main benchmark duration is started for thread/g;
export const MEASURE_OVER = /Main benchmark duration is over for thread/g;
