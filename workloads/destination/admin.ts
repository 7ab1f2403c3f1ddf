// The control plane driven live (--admin HOST:PORT): a harness rolls a service's pods at a precise moment of a
// measured window instead of at a time fixed in a script. POST /steps applies a JSON list of steps (the script's
// shape without `at`, parsed by script.ts so a step means the same in a file and over HTTP) at once, in order, and
// answers what it did; GET /state answers the services, endpoints, profiles and subscriber counts.
import http from 'node:http';
import type net from 'node:net';
import { applyStep, describeStep, parseImmediateSteps, routeOf, ScriptError } from './script.js';
import type { DestinationServer } from './server.js';

/** A list of steps is small; anything larger is a mistake, refused before it is parsed. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface DestinationAdmin {
  host: string;
  port: number;
  /** Stops listening and every flood it started. */
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown };

export async function startAdmin(server: DestinationServer, host: string, port: number, log?: (line: string) => void): Promise<DestinationAdmin> {
  const floods = new Set<NodeJS.Timeout>();
  const handle = async (req: http.IncomingMessage): Promise<Reply> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/state') {
      if (req.method !== 'GET') return { status: 405, body: { error: 'GET /state' } };
      return { status: 200, body: state(server) };
    }
    if (path === '/steps') {
      if (req.method !== 'POST') return { status: 405, body: { error: 'POST /steps with a JSON list of steps' } };
      const text = await readBody(req);
      if (text === undefined) return { status: 413, body: { error: `a body above ${MAX_BODY_BYTES} bytes` } };
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (err) {
        return { status: 400, body: { error: `steps: not JSON: ${(err as Error).message}` } };
      }
      let steps;
      try {
        steps = parseImmediateSteps(doc); // every step checked before any is applied
      } catch (err) {
        if (err instanceof ScriptError) return { status: 400, body: { error: err.message } };
        throw err;
      }
      const applied = steps.map((step) => {
        applyStep(server, step, floods);
        log?.(`destination: admin, ${step.service}: ${step.action.kind}`);
        // Streams the update went to now (a flood's first batch goes out within 10 ms).
        const { get, profile } = server.currentState().services[step.service]?.subscribers ?? { get: 0, profile: 0 };
        return { ...describeStep(step), subscribers: { get, profile } };
      });
      return { status: 200, body: { applied } };
    }
    return { status: 404, body: { error: 'not found; POST /steps or GET /state' } };
  };

  const admin = http.createServer((req, res) => {
    handle(req).then(
      ({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(body)}\n`);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify({ error: String(err) })}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    admin.once('error', reject);
    admin.listen(port, host, () => {
      admin.off('error', reject);
      resolve();
    });
  });
  const bound = admin.address() as net.AddressInfo;
  return {
    host,
    port: bound.port,
    close: () => {
      for (const timer of floods) clearInterval(timer);
      floods.clear();
      admin.closeAllConnections();
      return new Promise((resolve) => admin.close(() => resolve()));
    },
  };
}

/** GET /state: profiles in the script's shape, like the steps that set them. */
function state(server: DestinationServer): unknown {
  const { services, subscriptions } = server.currentState();
  return {
    services: Object.fromEntries(
      Object.entries(services).map(([name, s]) => [name, { ...s, profile: { routes: s.profile.routes.map(routeOf) } }]),
    ),
    subscriptions,
  };
}

/** The request body as text, or undefined when it passes MAX_BODY_BYTES. */
function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      chunks.length = 0; // read on to the end, keeping nothing, so the answer can still be written
      resolve(undefined);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
