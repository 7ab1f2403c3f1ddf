// The backends' admin listener (--admin, loopback only): GET /faults (the state), POST /faults (a JSON
// change applied at once, answered with the new state), GET /stats (per-endpoint counters). The
// orchestrator uses it to apply a fault at a precise moment of a measured window and to read what happened.
import http from 'node:http';
import type { FaultControl } from './fault-control.js';
import { FaultPatchError, parseFaultPatch } from './fault-patch.js';

/** A change is a few keys; anything larger is a mistake. */
const MAX_BODY_BYTES = 64 * 1024;

export function createFaultAdmin(control: FaultControl, endpointCount: number): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body, null, 2)}\n`);
    };
    if (path === '/stats' && req.method === 'GET') return send(200, control.stats());
    if (path === '/faults' && req.method === 'GET') return send(200, control.state());
    if (path === '/faults' && req.method === 'POST') {
      readBody(req).then(
        (text) => {
          let patch;
          try {
            patch = parseFaultPatch(text === '' ? {} : JSON.parse(text), endpointCount);
          } catch (err) {
            if (err instanceof SyntaxError) return send(400, { error: `body: not JSON: ${err.message}` });
            if (err instanceof FaultPatchError) return send(400, { error: err.message });
            throw err;
          }
          control.apply(patch).then(
            (state) => send(200, state),
            (err: unknown) =>
              err instanceof FaultPatchError ? send(400, { error: err.message }) : send(500, { error: err instanceof Error ? err.message : String(err) }),
          );
        },
        (err: unknown) => send(413, { error: err instanceof Error ? err.message : String(err) }),
      );
      return;
    }
    if (path === '/faults' || path === '/stats') {
      res.writeHead(405, { allow: path === '/faults' ? 'GET, POST' : 'GET' }).end();
      return;
    }
    send(404, { error: 'not found: GET /faults, POST /faults, GET /stats' });
  });
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Refused without reading on: the rest is drained and dropped, the 413 still gets out.
        req.removeAllListeners('data');
        req.resume();
        reject(new Error(`body: more than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
