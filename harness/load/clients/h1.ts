// HTTP/1.1 over autocannon's programmatic API: `connections` keep-alive connections, one request in flight
// on each (pipelining 1). autocannon brings its own loop, so this client drives the phases itself: one
// autocannon run spans warm-up and measure, and each response is recorded into OUR histogram from the
// 'response' event (autocannon's own histogram could not be merged with the other protocols').
import autocannon from 'autocannon';
import { classifyError, statusClass } from '../errors.js';
import { PhaseClock, type PhaseClockOptions, type PhaseTiming } from '../sequencer/phase-clock.js';
import type { Recorder } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import type { DrivingClient } from './client.js';

// autocannon stops only at its next sample tick (1 s by default): sample often so a stop ends the run at once.
const SAMPLE_INTERVAL_MS = 50;
// autocannon's timeout is in whole-ish seconds and at least 1 s.
const MIN_TIMEOUT_S = 1;

export function createH1Client(options: LoadOptions, recorder: Recorder): DrivingClient {
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
      onPhase: (phase) => {
        clockOptions.onPhase?.(phase);
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
          duration: (options.warmupMs + options.durationMs) / 1000 + 60,
          timeout: Math.max(MIN_TIMEOUT_S, options.timeoutMs / 1000),
          method: options.method as autocannon.Request['method'],
          ...(options.bodyBytes > 0 ? { body: Buffer.alloc(options.bodyBytes, 0x78) } : {}),
          sampleInt: SAMPLE_INTERVAL_MS,
        },
        (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      );
    });
    this.instance?.on('response', (_client, statusCode, _resBytes, responseTimeMs) => {
      const errorStatus = statusClass(statusCode);
      if (errorStatus) recorder.failure(errorStatus);
      else recorder.success(responseTimeMs * 1000);
    });
    // A timeout, a socket error on a request, or a failed (re)connect: autocannon reconnects at once.
    this.instance?.on('reqError', (err: unknown) => recorder.failure(classifyError(err)));
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
