import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { listen } from '../http/listen.js';

/**
 * /metrics on a listener of its own (loopback unless configured), so that it is never exposed on
 * the public port by accident.
 */
export async function startMetricsServer(registry: Registry, { host, port }: { host: string; port: number }): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'Content-Type': registry.contentType }).end(body),
      () => response.writeHead(500).end(),
    );
  });
  await listen(server, { host, port }, 'METRICS_PORT');
  return server;
}
