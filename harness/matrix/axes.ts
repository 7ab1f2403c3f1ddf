// Every axis of a matrix, declared once: the type of one value, its default, the component it configures, and
// whether it names the cell. The matrix schema's `axes`, `defaults` and `exclude`, the `--only` parser and the
// cells' parameters all derive from this table, so a new axis is one entry here (and the code that applies it).
import { z } from 'zod';
import { DEFAULT_STREAM_WINDOW } from '../load/options.js';
import { PROTOCOL_NAMES, PROTOCOLS_DOC } from '../load/protocols.js';
import { SCENARIO_NAMES } from '../../workloads/scenarios/index.js';
import { PROXY_NAMES } from '../proxies/names.js';

const MAX_WINDOW = 2 ** 31 - 1;
const MAX_BYTES = 64 * 1024 * 1024;
/** Large enough that a generator or a backend never binds: the proxy's windows are what a cell sweeps (the generator's own default). */
export const LARGE_WINDOW = DEFAULT_STREAM_WINDOW;

/** Which process an axis configures (and so which one the orchestrator passes it to). */
export type Component = 'generator' | 'proxy' | 'backends' | 'link' | 'cell';

interface AxisDef<S extends z.ZodType> {
  value: S;
  default: z.infer<S>;
  component: Component;
  /** What the axis means, for `--help`-like listings and the README. */
  doc: string;
  /** false: the axis never names a cell even when swept (none today; kept for axes that only describe). */
  inCellId?: boolean;
}

const axis = <S extends z.ZodType>(def: AxisDef<S>): AxisDef<S> => def;
const window = z.number().int().min(0).max(MAX_WINDOW);
const connWindow = z.number().int().min(65_535).max(MAX_WINDOW);
const bytes = z.number().int().min(0).max(MAX_BYTES);

export const AXES = {
  protocol: axis({ value: z.enum(PROTOCOL_NAMES), default: 'h2', component: 'generator', doc: PROTOCOLS_DOC }),
  scenario: axis({
    value: z.enum(SCENARIO_NAMES),
    default: 'unary',
    component: 'cell',
    doc: 'a workloads/scenarios/ file: unary, large-body, server-streaming, or an incident of the source documents (README: Scenarios)',
  }),
  target: axis({ value: z.enum(['proxy', 'direct']), default: 'proxy', component: 'cell', doc: 'proxy, or direct: the generator talks to the first backend endpoint (the baseline)' }),
  concurrency: axis({ value: z.number().int().min(1).max(10_000), default: 8, component: 'generator', doc: 'requests in flight in total' }),
  connections: axis({ value: z.number().int().min(1).max(10_000), default: 1, component: 'generator', doc: 'h2/gRPC connections the concurrency is spread over (h1: one per request in flight)' }),
  clientStreamWindow: axis({ value: window, default: LARGE_WINDOW, component: 'generator', doc: "the generator's SETTINGS_INITIAL_WINDOW_SIZE" }),
  clientConnWindow: axis({ value: connWindow, default: LARGE_WINDOW, component: 'generator', doc: "the generator's connection receive window" }),
  requestBytes: axis({ value: bytes, default: 0, component: 'generator', doc: 'request body bytes (unary: POST when > 0)' }),
  streamWindow: axis({ value: window, default: 65_535, component: 'proxy', doc: "the proxy's stream window, both sides (linkerd2-proxy's default)" }),
  connWindow: axis({ value: connWindow, default: 1_048_576, component: 'proxy', doc: "the proxy's connection window, both sides (linkerd2-proxy's default)" }),
  adaptive: axis({ value: z.boolean(), default: false, component: 'proxy', doc: "the proxy's adaptive (BDP) flow control, starting from streamWindow/connWindow" }),
  // The proxy's mitigations of the incidents (passed as flags only where a cell differs from the proxy's default).
  h1ReuseGuard: axis({ value: z.boolean(), default: true, component: 'proxy', doc: 'reuse a released upstream HTTP/1.1 connection only after the next event-loop turn (Envoy\'s fix of the reuse race)' }),
  h1Reissue: axis({ value: z.boolean(), default: true, component: 'proxy', doc: 'reissue an idempotent request reset on a reused upstream HTTP/1.1 connection, on a fresh one' }),
  h1PoolIdleTimeoutMs: axis({ value: z.number().int().min(0).max(3_600_000), default: 3000, component: 'proxy', doc: "the proxy closes an idle upstream keep-alive connection after this (keep it below the upstream's; 0: never)" }),
  delayedCloseMs: axis({ value: z.number().int().min(0).max(60_000), default: 1000, component: 'proxy', doc: 'after an early response (413), keep reading the client for this long before closing (0: close at once)' }),
  failfastMs: axis({ value: z.number().int().min(1).max(600_000), default: 3000, component: 'proxy', doc: 'a balancer without a ready endpoint for this long answers 503 at once' }),
  absorbCancels: axis({ value: z.number().int().min(0).max(100_000), default: 0, component: 'proxy', doc: 'cancelled bodiless requests let finish upstream (answer dropped) instead of reset, at most this many at once per upstream session (rapid reset; 0: off)' }),
  controlConnWindow: axis({ value: connWindow, default: 1_048_576, component: 'proxy', doc: "the connection receive window of the proxy's control-plane (Destination) client (linkerd2-proxy's control client: 1 MiB)" }),
  endpoints: axis({ value: z.number().int().min(1).max(1000), default: 1, component: 'backends', doc: 'backend endpoints (ports) behind the proxy' }),
  responseBytes: axis({ value: bytes, default: 1024, component: 'backends', doc: 'response body bytes (server-streaming: bytes per message)' }),
  streamMessages: axis({ value: z.number().int().min(1).max(1_000_000), default: 10, component: 'backends', doc: 'server-streaming: messages per stream' }),
  backendStreamWindow: axis({ value: window, default: LARGE_WINDOW, component: 'backends', doc: "the backends' SETTINGS_INITIAL_WINDOW_SIZE" }),
  backendConnWindow: axis({ value: connWindow, default: LARGE_WINDOW, component: 'backends', doc: "the backends' connection receive window" }),
  rttMs: axis({ value: z.number().min(0).max(10_000), default: 0, component: 'link', doc: 'round trip of the emulated link in ms (0: no link)' }),
  bandwidthMbps: axis({ value: z.number().min(0).max(100_000), default: 0, component: 'link', doc: 'bandwidth of the emulated link per direction in Mbit/s (0: unlimited)' }),
  jitterMs: axis({ value: z.number().min(0).max(10_000), default: 0, component: 'link', doc: 'one-way delay varies by +- this, never reordering' }),
  link: axis({ value: z.enum(['upstream', 'downstream', 'both']), default: 'upstream', component: 'link', doc: 'where the link sits: proxy<->backends (a mesh), generator<->proxy (an edge), or both' }),
  // Last, so it varies fastest: a matrix sweeping it runs the proxies back to back for each setting of the
  // other axes, and a drift of the machine falls on every proxy alike.
  proxy: axis({
    value: z.enum(PROXY_NAMES),
    default: 'sluice',
    component: 'cell',
    doc: 'the proxy under test, started by its driver (harness/proxies/): sluice (ours), nghttpx or haproxy; a setting it cannot express excludes the cell with the reason',
  }),
} as const;

export type AxisName = keyof typeof AXES;
export const AXIS_NAMES = Object.keys(AXES) as AxisName[];
export type AxisScalar = string | number | boolean;

/** The parameters of one cell: every axis has a value, swept or defaulted. */
export type CellParams = { -readonly [K in AxisName]: z.infer<(typeof AXES)[K]['value']> };

/** Each axis's built-in default: what a cell gets where a matrix neither sweeps nor fixes it. */
export const AXIS_DEFAULTS = Object.fromEntries(AXIS_NAMES.map((name) => [name, AXES[name].default])) as CellParams;

/** The axes of a component, e.g. the link's. */
export function axesOf(component: Component): AxisName[] {
  return AXIS_NAMES.filter((name) => AXES[name].component === component);
}

type Shape<F> = { [K in AxisName]: F };

function shape<F extends z.ZodType>(make: (value: z.ZodType, name: AxisName) => F): Shape<F> {
  return Object.fromEntries(AXIS_NAMES.map((name) => [name, make(AXES[name].value, name)])) as Shape<F>;
}

/** `axes:` — each axis a non-empty list of values. */
export const axesSchema = z.strictObject(shape((value) => z.array(value).nonempty().optional()));

/** `defaults:` — each axis one value, used where it is not swept. */
export const defaultsSchema = z.strictObject(shape((value) => value.optional()));

/** `exclude:` — a cell matching every named axis (one value or a list each) is skipped; `reason` says why. */
export const exclusionSchema = z
  .strictObject({ reason: z.string().min(1).optional(), ...shape((value) => z.union([value, z.array(value).nonempty()]).optional()) })
  .refine((e) => Object.keys(e).some((k) => k !== 'reason'), { message: 'an exclusion must name at least one axis' });

/** One axis value as text (`--only rttMs=0,40`): the axis's own type, or undefined when it is not one. */
export function parseAxisText(axis: AxisName, raw: string): AxisScalar | undefined {
  const candidate: unknown = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  const parsed = AXES[axis].value.safeParse(candidate);
  return parsed.success ? (parsed.data as AxisScalar) : undefined;
}
