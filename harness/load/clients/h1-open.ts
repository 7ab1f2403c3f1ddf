// HTTP/1.1 for the open loop, over node:http with a keep-alive agent of `connections` sockets. autocannon
// cannot do this: it sends a connection's next request only when the previous answer is in (a closed loop
// per connection) and times each request from the moment it wrote it, so a stalled target slows the
// sending and hides the stall (coordinated omission). Here each request is started when the schedule says
// and timed from that intended moment; one waiting for a free connection waits on the target's account.
// The closed loop stays on autocannon (clients/h1.ts), which is faster there.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { classifyError, statusClass, TIMEOUT, TRUNCATED } from '../errors.js';
import type { Recorder } from '../statistic/recorder.js';
import type { LoadOptions } from '../types.js';
import { failed, type RequestClient } from './client.js';

interface InFlight {
  request: http.ClientRequest;
  /** Settles the request's promise once; later calls do nothing. */
  finish: (errorClass: string | undefined) => void;
}

export function createH1OpenClient(options: LoadOptions, recorder: Recorder): RequestClient {
  return new H1OpenClient(options, recorder);
}

class H1OpenClient implements RequestClient {
  readonly kind = 'request' as const;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly body: Buffer | undefined;
  // Fixed for the run, so a request allocates none of them.
  private readonly transport: typeof http | typeof https;
  private readonly headers: http.OutgoingHttpHeaders;
  private readonly inFlight = new Set<InFlight>();
  private closed = false;

  constructor(
    private readonly options: LoadOptions,
    private readonly recorder: Recorder,
  ) {
    this.url = new URL(options.url);
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: options.connections,
      maxFreeSockets: options.connections,
      // Reuse the connection freed last: the others then idle out at the target rather than at random.
      scheduling: 'lifo',
    };
    const tls = this.url.protocol === 'https:';
    this.agent = tls ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.transport = tls ? https : http;
    this.body = options.bodyBytes > 0 ? Buffer.alloc(options.bodyBytes, 0x78) : undefined;
    this.headers = this.body ? { 'content-length': String(this.body.length) } : {};
  }

  startRequest(intendedStart?: number): Promise<void> {
    const started = intendedStart ?? performance.now();
    if (this.closed) return Promise.reject(failed(this.recorder, 'other:closed'));
    return new Promise((resolve, reject) => {
      const request = this.transport.request(this.url, { agent: this.agent, method: this.options.method, headers: this.headers });
      const entry: InFlight = {
        request,
        finish: (errorClass) => {
          if (!this.inFlight.delete(entry)) return;
          clearTimeout(timer);
          if (errorClass === undefined) {
            this.recorder.success((performance.now() - started) * 1000);
            resolve();
          } else {
            reject(failed(this.recorder, errorClass));
          }
        },
      };
      this.inFlight.add(entry);
      // Latency and the timeout run from the intended send time (open loop), else from now.
      const timer = setTimeout(
        () => {
          entry.finish(TIMEOUT);
          request.destroy();
        },
        Math.max(0, started + this.options.timeoutMs - performance.now()),
      );
      request.on('response', (response) => {
        const status = response.statusCode ?? 0;
        response.on('end', () => entry.finish(statusClass(status)));
        // The connection closed before the body was complete (node 20 reports it as 'aborted' + ECONNRESET).
        // After 'end' the request is settled and these do nothing.
        response.on('error', () => entry.finish(TRUNCATED));
        response.on('close', () => entry.finish(TRUNCATED));
        response.resume();
      });
      request.on('error', (err) => entry.finish(classifyError(err)));
      request.end(this.body);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // A request still queued for a socket gets no event once the agent is gone: settle each one here.
    for (const entry of [...this.inFlight]) {
      entry.finish('other:closed');
      entry.request.destroy();
    }
    this.agent.destroy();
  }
}
