// The admin listener (loopback by default): GET /metrics (Prometheus text), /ready and /live. The harness
// starts the proxy, polls /ready, and scrapes /metrics around each repetition.
import http from 'node:http';
import type { Registry } from 'prom-client';

export interface AdminConfig {
  registry: Registry;
  /** True once the proxy's listener is bound and its endpoints are known. */
  isReady: () => boolean;
}

export function createAdmin({ registry, isReady }: AdminConfig): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    }
    switch (path) {
      case '/metrics':
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
        );
        return;
      case '/ready': {
        const ready = isReady();
        return void res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      }
      case '/live':
        return void res.writeHead(200, { 'content-type': 'text/plain' }).end('live\n');
      default:
        return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /ready, /live\n');
    }
  });
}
