// The backends' --help text: every flag with its default, the faults and the admin API.
import { H2_CODE_NAMES } from '../../common/h2-codes.js';
import { DEFAULTS, MAX_ENDPOINTS, MAX_RESPONSE_BYTES } from './config.js';
import { FAULT_DEFAULTS } from './fault-flags.js';

export function helpText(): string {
  return `Usage: node dist/workloads/backends/main.js [flags]   (npm run backends -- [flags])

Serves N synthetic endpoints, one port each. Every endpoint answers any path and method:
it reads the whole request body, waits one latency sample, and answers 200 with
content-type application/octet-stream, response-bytes bytes and x-sluice-endpoint: <port>.
A request header x-sluice-response-bytes: N (gRPC: response_bytes) overrides the size.

Server streaming (h2 and gRPC): an h2 request with x-sluice-stream-messages: N, or a call to
sluice.echo.Echo/ServerStream with messages N (0: 10), is answered, after one latency sample, with N
messages of M bytes (the response size above, at least 8) written one after another as flow control
allows, then the end of the stream (h2: 200 with x-sluice-message-bytes: M; gRPC: N EchoReply, status
OK). Each message's first 8 bytes are the time it was written, float64 little-endian epoch ms
(performance.timeOrigin + performance.now()), so a client on this machine can time each message.
A bad N or an M under 8 is answered 400 (gRPC: INVALID_ARGUMENT).

When every port listens, one JSON line goes to stdout and nothing else does:
  {"event":"ready","protocol":"h2","host":"127.0.0.1","ports":[...]}
(with "admin":"127.0.0.1:PORT" added when --admin is given).
SIGTERM or SIGINT closes everything and exits 0.

Flags:
  --protocol h1|h2|grpc     h1: HTTP/1.1 keep-alive; h2: h2c prior knowledge;
                            grpc: sluice.echo.Echo/Unary and /ServerStream (workloads/proto/echo.proto)
                            (default ${DEFAULTS.protocol})
  --endpoints N             endpoints to serve, 1..${MAX_ENDPOINTS}  (default ${DEFAULTS.endpoints})
  --base-port P             ports P..P+N-1; 0 gives each endpoint an ephemeral port  (default ${DEFAULTS.basePort})
  --host HOST               address to listen on  (default ${DEFAULTS.host})
  --latency DIST            per-request latency  (default ${DEFAULTS.latency})
                              1ms | fixed:1ms          always 1 ms
                              uniform:1ms:5ms          uniform between min and max
                              normal:5ms:1ms           mean:stddev, clamped at 0
                              lognormal:5ms:0.5        median:sigma
                              bimodal:1ms:50ms:0.05    fast:slow:share of slow requests
  --response-bytes N        response body bytes, 0..${MAX_RESPONSE_BYTES}  (default ${DEFAULTS.responseBytes})
  --stream-window N         h2/gRPC: per-stream receive window the backend advertises  (default ${DEFAULTS.streamWindow})
  --conn-window N           h2/gRPC: connection receive window  (default ${DEFAULTS.connWindow})
                            Both defaults are large so the backend is never the flow-control
                            bottleneck; the proxy's windows are what a benchmark sweeps.
  -h, --help                show this text

Faults (for the faulty set: every endpoint, or the first K with --slow-endpoints; the others stay healthy).
A reset or a failure is decided when the request arrives and acted out when its answer is due (after its
body is read and its latency waited); shares are drawn per request.
  --slow-endpoints K        the first K endpoints form the faulty set  (default: all of them)
  --slow-latency DIST       latency of the faulty set, same forms as --latency  (default: --latency)
  --refuse closed|reset     the faulty set refuses connections: closed (the port is bound once, for the
                            ready line, then closed: ECONNREFUSED) or reset (accepted, then reset at once:
                            ECONNRESET)
  --reset-share S           share 0..1 of requests answered by a reset: h2/gRPC RST_STREAM with --reset-code,
                            h1 the connection reset  (default 0)
  --reset-code NAME         RFC 9113 error code of those RST_STREAM frames, h2/gRPC  (default ${FAULT_DEFAULTS.resetCode})
                              ${H2_CODE_NAMES.slice(0, 5).join(' ')}
                              ${H2_CODE_NAMES.slice(5, 10).join(' ')}
                              ${H2_CODE_NAMES.slice(10).join(' ')}
  --fail-share S            share 0..1 of requests answered with a failure: --fail-status (h1/h2) or the gRPC
                            status --fail-grpc (trailers-only)  (default 0; reset + fail shares at most 1)
  --fail-status N           h1/h2: the failure's status, 400..599  (default ${FAULT_DEFAULTS.failStatus})
  --fail-grpc NAME          gRPC: the failure's status name, e.g. UNAVAILABLE, INTERNAL  (default ${FAULT_DEFAULTS.failGrpc})
  --idle-close D            h1: close a keep-alive connection idle for D (since it opened or its last
                            response) with a plain FIN; no response carries Connection: close or a
                            Keep-Alive: timeout= hint: the reuse-as-it-closes race of seeds 001/003
  --early-status N          h1/h2: answer N (e.g. 413) as soon as the headers arrive when the request has a
                            body larger than --early-after-bytes (or of unknown size), without reading it;
                            h1: with Connection: close, the connection closed once the response is written
                            (no lingering read); h2: HEADERS with END_STREAM, then RST_STREAM(NO_ERROR)
  --early-after-bytes N     body size above which --early-status answers  (default ${FAULT_DEFAULTS.earlyAfterBytes})
  --early-linger D          h1: after the early answer, half-close and keep reading (dropping) the body until
                            the client closes or D passes, as nginx's lingering close; without it the close
                            with the body unread makes the kernel reset the connection  (default: close at once)
  --stall-read              never read request bodies: a request with a body is never answered and its
                            bytes never consumed (h1: the socket is paused; h2/gRPC: the stream is paused, so
                            its window fills); a request without a body is answered as usual
  --down-at D               the faulty set goes down D after the ready line: listeners closed, every
                            connection reset (clients see resets, then refused connects)
  --up-at U                 ... and comes back U after the ready line, on the same ports
  --admin HOST:PORT         loopback only; an HTTP admin listener (port 0: any), named in the ready line as
                            "admin":"127.0.0.1:PORT". GET /faults: the state; POST /faults with JSON
                            {"endpoints"?: [i, ...] (default: the faulty set), "down"?: bool,
                             "refuse"?: "closed"|"reset"|null, "resetShare"?: S, "failShare"?: S,
                             "latency"?: "DIST", "stallRead"?: bool} changes it at once and answers the
                            new state; GET /stats: counters per endpoint (connections accepted, refused,
                            reset, dropped, idle-closed, open; requests, answered by status, failed, reset,
                            early, stalled)
A flag that could never act, or contradicts another, is refused naming both (e.g. --idle-close with
--protocol h2, --reset-share 0.6 with --fail-share 0.5).
`;
}
