// HTTP/1.1 over autocannon's programmatic API (`client: 'lib'`, the cross-check of clients/h1.ts):
// `connections` keep-alive connections, one request in flight on each (pipelining 1). autocannon brings its
// own loop, so this client drives the phases itself: one autocannon run spans warm-up and measure, and each
// response is recorded into OUR histograms from the 'response' event. What it cannot do, and clients/h1.ts
// does: send on a schedule (open loop), drain the window (a request in flight when autocannon stops is lost),
// keep its connections across repetitions, see a response cut short (it reconnects silently).
import autocannon from 'autocannon';
import { classifyError, statusClass, TIMEOUT } from '../errors.js';
import { PhaseClock, type PhaseClockOptions, type PhaseTiming } from '../sequencer/phase-clock.js';
import { performance } from 'node:perf_hooks';
import { payloadHeaders } from '../payload.js';
import type { Recorder } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import type { DrivingClient } from './client.js';

// autocannon stops only at its next sample tick (1 s by default): sample often so a stop ends the run at once.
const SAMPLE_INTERVAL_MS = 50;
// autocannon's timeout is in whole-ish seconds and at least 1 s.
const MIN_TIMEOUT_S = 1;

export function createH1AutocannonClient(options: LoadOptions, recorder: Recorder): DrivingClient {
  return new H1Client(options, recorder);
}

class H1Client implements DrivingClient {
  readonly kind = 'driver' as const;
  private instance: autocannon.Instance | undefined;
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: LoadOptions,
    private readonly recorder: Recorder,
  ) {}

  async run(clockOptions: PhaseClockOptions): Promise<PhaseTiming> {
    const { options, recorder } = this;
    const clock = new PhaseClock({
      ...clockOptions,
      onPhase: (phase, atMs) => {
        clockOptions.onPhase?.(phase, atMs);
        if (phase === 'done') this.instance?.stop();
      },
    });
    this.finished = new Promise<void>((resolve, reject) => {
      this.instance = autocannon(
        {
          url: options.url,
          connections: options.connections,
          pipelining: 1,
          // The clock ends the run; autocannon's own duration is only a backstop.
          duration: (clockOptions.warmupMs + clockOptions.durationMs) / 1000 + 60,
          timeout: Math.max(MIN_TIMEOUT_S, options.timeoutMs / 1000),
          method: options.method as autocannon.Request['method'],
          ...(options.bodyBytes > 0 ? { body: Buffer.alloc(options.bodyBytes, 0x78) } : {}),
          headers: Object.fromEntries(payloadHeaders(options)),
          sampleInt: SAMPLE_INTERVAL_MS,
        },
        (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      );
    });
    // autocannon tells a response's time, not its start: the start is derived from it.
    this.instance?.on('response', (_client, statusCode, _resBytes, responseTimeMs) => {
      const now = performance.now();
      const times = { intended: now - responseTimeMs, sent: now - responseTimeMs };
      const errorStatus = statusClass(statusCode);
      if (errorStatus) recorder.failure(errorStatus, times, now);
      else recorder.success(times, now);
    });
    // A timeout, a socket error on a request, or a failed (re)connect: autocannon reconnects at once. A timeout
    // started its timeout ago; for the others the start is unknown and taken as now.
    this.instance?.on('reqError', (err: unknown) => {
      const now = performance.now();
      const errorClass = classifyError(err);
      const start = errorClass === TIMEOUT ? now - options.timeoutMs : now;
      recorder.failure(errorClass, { intended: start, sent: start }, now);
    });
    // An invalid option ends autocannon at once: stop the clock rather than wait out the run.
    this.finished.catch(() => clock.stop());
    clock.start();
    const timing = await clock.done;
    await this.finished;
    return timing;
  }

  async close(): Promise<void> {
    this.instance?.stop();
    await this.finished.catch(() => undefined);
  }
}
