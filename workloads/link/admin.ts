// The link's admin listener (127.0.0.1 by default): GET /stats (JSON: settings, per-direction totals,
// lateness, connections, CPU, saturation) and GET /metrics (Prometheus text). The harness reads both.
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface AdminConfig {
  registry: Registry;
  stats: () => unknown;
}

export function createAdmin({ registry, stats }: AdminConfig): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    }
    switch (path) {
      case '/stats':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(stats(), null, 2)}\n`);
      case '/metrics':
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
        );
        return;
      default:
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /stats or /metrics\n');
    }
  });
}
