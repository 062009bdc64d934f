import { createServer, request, type Server } from 'node:http';
import { once } from 'node:events';

export interface RoundRobinProxy {
  /** Requests each backend answered, in backend order. */
  counts: number[];
  close(): Promise<void>;
}

/**
 * A load balancer in miniature: every request goes to the next backend in turn, so a flow
 * through it is served by all of them. Listens on 127.0.0.1 only.
 */
export async function startRoundRobinProxy(port: number, backendPorts: number[]): Promise<RoundRobinProxy> {
  const counts = backendPorts.map(() => 0);
  let next = 0;
  const server: Server = createServer((incoming, outgoing) => {
    const index = next;
    next = (next + 1) % backendPorts.length;
    counts[index] = (counts[index] ?? 0) + 1;
    const forwarded = request(
      { host: '127.0.0.1', port: backendPorts[index], method: incoming.method, path: incoming.url, headers: incoming.headers },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    forwarded.on('error', () => {
      outgoing.writeHead(502).end();
    });
    incoming.pipe(forwarded);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    counts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
