// A control-plane script: a timeline of endpoint and profile changes, read from YAML and played against a
// DestinationServer. It scripts what a benchmark needs from discovery over time: roll the pods (add the new,
// remove the old), lose every endpoint, change the profile, flood the proxy with updates.
//
//   service: web            # optional; "*" (the default) answers any service the proxy asks for
//   steps:                  # or the list alone, as the whole file
//     - at: 0s
//       set: [127.0.0.1:9001, 127.0.0.1:9002]     # the whole set (remove + add deltas)
//     - at: 2s
//       add: [127.0.0.1:9003]
//     - at: 2s
//       remove: [127.0.0.1:9001]
//     - at: 3s
//       no-endpoints: true
//     - at: 4s
//       profile: { routes: [{ name: items, method: GET, path: /items/.*, retryable: true, timeout: 500ms }] }
//     - at: 5s
//       flood: { rate: 500, for: 2s }             # redundant updates, 500 a second (kind: add | profile)
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../../common/duration.js';
import { ANY_SERVICE, parseTcpAddress, type DestinationServer, type ProfileSpec, type RouteSpec } from './server.js';

export type Action =
  | { kind: 'set' | 'add' | 'remove'; addrs: string[] }
  | { kind: 'no-endpoints' }
  | { kind: 'profile'; profile: ProfileSpec }
  | { kind: 'flood'; rate: number; forMs: number; what: 'add' | 'profile' };

export interface Step {
  atMs: number;
  service: string;
  action: Action;
}

export class ScriptError extends Error {
  constructor(where: string, detail: string) {
    super(`${where}: ${detail}`);
    this.name = 'ScriptError';
  }
}

const ACTIONS = ['set', 'add', 'remove', 'no-endpoints', 'profile', 'flood'] as const;
/** A flood above this would only measure this process. */
export const MAX_FLOOD_RATE = 100_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function duration(value: unknown, where: string): number {
  if (typeof value !== 'string' && typeof value !== 'number') throw new ScriptError(where, 'expected a duration such as 2s');
  if (value === 0) return 0;
  try {
    return parseDuration(String(value), where);
  } catch {
    throw new ScriptError(where, `${JSON.stringify(value)} is not a duration; expected e.g. 500ms, 2s`);
  }
}

function addrList(value: unknown, where: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw new ScriptError(where, 'expected a list of HOST:PORT');
  return list.map((item, i) => {
    if (typeof item !== 'string') throw new ScriptError(`${where}[${i}]`, 'expected HOST:PORT');
    try {
      parseTcpAddress(item);
    } catch (err) {
      throw new ScriptError(`${where}[${i}]`, (err as Error).message);
    }
    return item.trim();
  });
}

function route(value: unknown, where: string): RouteSpec {
  if (!isRecord(value)) throw new ScriptError(where, 'expected a route mapping (name, method, path, retryable, timeout)');
  const known = ['name', 'method', 'path', 'retryable', 'timeout'];
  const unknown = Object.keys(value).find((k) => !known.includes(k));
  if (unknown) throw new ScriptError(`${where}.${unknown}`, `unknown key; expected one of ${known.join(', ')}`);
  if (typeof value.name !== 'string' || value.name === '') throw new ScriptError(`${where}.name`, 'required: the route name');
  const spec: RouteSpec = { name: value.name };
  if (value.method !== undefined) {
    if (typeof value.method !== 'string') throw new ScriptError(`${where}.method`, 'expected an HTTP method such as GET');
    spec.method = value.method.toUpperCase();
  }
  if (value.path !== undefined) {
    if (typeof value.path !== 'string') throw new ScriptError(`${where}.path`, 'expected a regular expression');
    try {
      new RegExp(value.path);
    } catch (err) {
      throw new ScriptError(`${where}.path`, `bad regular expression: ${(err as Error).message}`);
    }
    spec.pathRegex = value.path;
  }
  if (value.retryable !== undefined) {
    if (typeof value.retryable !== 'boolean') throw new ScriptError(`${where}.retryable`, 'expected true or false');
    spec.retryable = value.retryable;
  }
  if (value.timeout !== undefined) spec.timeoutMs = duration(value.timeout, `${where}.timeout`);
  return spec;
}

function action(step: Record<string, unknown>, where: string): Action {
  const given = ACTIONS.filter((a) => step[a] !== undefined);
  if (given.length !== 1) throw new ScriptError(where, `expected exactly one of ${ACTIONS.join(', ')}; got ${given.length === 0 ? 'none' : given.join(', ')}`);
  const kind = given[0]!;
  const value = step[kind];
  const at = `${where}.${kind}`;
  switch (kind) {
    case 'set':
    case 'add':
    case 'remove':
      return { kind, addrs: addrList(value, at) };
    case 'no-endpoints':
      if (value !== true) throw new ScriptError(at, 'expected true');
      return { kind };
    case 'profile': {
      if (!isRecord(value) || !Array.isArray(value.routes)) throw new ScriptError(at, 'expected { routes: [...] }');
      return { kind, profile: { routes: value.routes.map((r, i) => route(r, `${at}.routes[${i}]`)) } };
    }
    case 'flood': {
      if (!isRecord(value)) throw new ScriptError(at, 'expected { rate: N, for: DURATION, kind: add|profile }');
      const rate = value.rate;
      if (typeof rate !== 'number' || !(rate > 0) || rate > MAX_FLOOD_RATE) {
        throw new ScriptError(`${at}.rate`, `expected updates per second, above 0 and at most ${MAX_FLOOD_RATE}`);
      }
      const what = value.kind ?? 'add';
      if (what !== 'add' && what !== 'profile') throw new ScriptError(`${at}.kind`, 'expected add or profile');
      return { kind, rate, forMs: duration(value.for, `${at}.for`), what };
    }
  }
}

/** One step, `at` required (a script) or refused (applied at once: the admin API). Errors name `where` and the key. */
function parseStep(raw: unknown, where: string, service: string, timed: boolean): Step {
  if (!isRecord(raw)) throw new ScriptError(where, `expected a mapping with ${timed ? 'at: and ' : ''}one action`);
  if (timed && raw.at === undefined) throw new ScriptError(`${where}.at`, 'required: when, from the start (0s, 2s, ...)');
  if (!timed && raw.at !== undefined) throw new ScriptError(`${where}.at`, 'not here: these steps apply at once, in order');
  const known = [...(timed ? ['at'] : []), 'service', ...ACTIONS];
  const unknown = Object.keys(raw).find((k) => !known.includes(k));
  if (unknown) {
    throw new ScriptError(`${where}.${unknown}`, `unknown key; expected ${timed ? 'at, ' : ''}service and one of ${ACTIONS.join(', ')}`);
  }
  if (raw.service !== undefined && (typeof raw.service !== 'string' || raw.service === '')) {
    throw new ScriptError(`${where}.service`, 'expected a service name');
  }
  return {
    atMs: timed ? duration(raw.at, `${where}.at`) : 0,
    service: (raw.service as string | undefined) ?? service,
    action: action(raw, where),
  };
}

/** The steps of a parsed document: a list, or a mapping with `service:` (the default for its steps) and `steps:`. */
function parseSteps(doc: unknown, file: string, timed: boolean): Step[] {
  let service = ANY_SERVICE;
  let steps: unknown = doc;
  if (isRecord(doc)) {
    if (doc.service !== undefined) {
      if (typeof doc.service !== 'string' || doc.service === '') throw new ScriptError(`${file}: service`, 'expected a service name');
      service = doc.service;
    }
    steps = doc.steps;
  }
  if (!Array.isArray(steps)) throw new ScriptError(file, 'expected a list of steps, or a mapping with steps: [...]');
  return steps.map((raw, i) => parseStep(raw, `${file}: step ${i + 1}`, service, timed));
}

/** Parses a script's YAML text; every error names the step and key (and `file`). */
export function parseScript(text: string, file = 'script'): Step[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ScriptError(file, `not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseSteps(doc, file, true);
}

/** Steps to apply at once, in order (the admin API): the script's shape without `at`, as a parsed JSON document.
 *  A step means the same here as in a script file. */
export function parseImmediateSteps(doc: unknown, where = 'steps'): Step[] {
  return parseSteps(doc, where, false);
}

/** Applies one step now (a flood starts and runs on its own timer, kept in `timers` until it ends). */
export function applyStep(server: DestinationServer, { service, action }: Step, timers: Set<NodeJS.Timeout>): void {
  switch (action.kind) {
    case 'set':
      return server.setEndpoints(service, action.addrs);
    case 'add':
      return server.add(service, action.addrs);
    case 'remove':
      return server.remove(service, action.addrs);
    case 'no-endpoints':
      return server.noEndpoints(service);
    case 'profile':
      return server.setProfile(service, action.profile);
    case 'flood': {
      // Sent in batches every 10 ms: timers cannot fire 1000 times a second, but the count per second is exact.
      const started = performance.now();
      let sent = 0;
      const timer = setInterval(() => {
        const elapsed = Math.min(performance.now() - started, action.forMs);
        const due = Math.floor((action.rate * elapsed) / 1000);
        for (; sent < due; sent++) {
          if (action.what === 'profile') server.resendProfile(service);
          else server.resend(service);
        }
        if (elapsed >= action.forMs) {
          clearInterval(timer);
          timers.delete(timer);
        }
      }, 10);
      timers.add(timer);
      return;
    }
  }
}

/** A step in the script's shape (without `at`): how the admin API answers what it applied. */
export function describeStep({ service, action }: Step): Record<string, unknown> {
  switch (action.kind) {
    case 'set':
    case 'add':
    case 'remove':
      return { service, [action.kind]: action.addrs };
    case 'no-endpoints':
      return { service, 'no-endpoints': true };
    case 'profile':
      return { service, profile: { routes: action.profile.routes.map(routeOf) } };
    case 'flood':
      return { service, flood: { rate: action.rate, for: `${action.forMs}ms`, kind: action.what } };
  }
}

/** A route in the script's shape. */
export function routeOf(route: RouteSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { name: route.name };
  if (route.method) out.method = route.method;
  if (route.pathRegex) out.path = route.pathRegex;
  if (route.retryable !== undefined) out.retryable = route.retryable;
  if (route.timeoutMs) out.timeout = `${route.timeoutMs}ms`;
  return out;
}

export interface RunningScript {
  /** Resolves when the last step has been applied (a flood may still be running). */
  done: Promise<void>;
  stop(): void;
}

/** Plays `steps` against `server`, `at` counted from now; `onStep` hears each one as it is applied. */
export function runScript(server: DestinationServer, steps: readonly Step[], onStep?: (step: Step) => void): RunningScript {
  const timers = new Set<NodeJS.Timeout>();
  const done = Promise.all(
    steps.map(
      (step) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            onStep?.(step);
            applyStep(server, step, timers);
            resolve();
          }, step.atMs);
          timers.add(timer);
        }),
    ),
  ).then(() => undefined);
  return {
    done,
    stop: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
