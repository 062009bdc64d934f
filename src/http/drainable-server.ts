import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer } from 'node:net';

export interface DrainableServer {
  server: Server;
  /**
   * Stops taking connections and lets every request already accepted finish, up to the deadline;
   * then cuts what is left. Resolves true when everything finished in time. Only once it has
   * resolved may what the handlers use (the database pool) be closed.
   */
  drain(deadlineSeconds: number): Promise<boolean>;
}

/**
 * An HTTP server that knows which requests are still being handled, not just which connections
 * are open: a handler may still be writing to the database after its client went away, and a
 * busy keep-alive connection never turns idle by itself. From the drain on, every response says
 * `Connection: close`, so each client finishes its current request and reconnects elsewhere.
 */
export function drainableServer(handle: (request: IncomingMessage, response: ServerResponse) => Promise<unknown>): DrainableServer {
  const handling = new Set<ServerResponse>();
  let draining = false;
  let onSettled: (() => void) | undefined;

  const server = createServer((request, response) => {
    if (draining) response.setHeader('Connection', 'close');
    handling.add(response);
    const settled = () => {
      handling.delete(response);
      if (handling.size === 0) onSettled?.();
    };
    handle(request, response).then(settled, settled);
  });

  return {
    server,
    async drain(deadlineSeconds) {
      draining = true;
      for (const response of handling) if (!response.headersSent) response.setHeader('Connection', 'close');
      // Not http.Server#close: it also drops every connection idle at this instant, and a keep-alive
      // client may be sending its next request on one right now (it would be reset). Such a request
      // is answered with Connection: close instead; a connection left idle ends at keepAliveTimeout.
      const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
      // Every connection has ended, but a handler may outlive its client.
      const finished = closed.then(() => (handling.size === 0 ? undefined : new Promise<void>((resolve) => (onSettled = resolve))));

      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineSeconds * 1000);
      });
      const inTime = await Promise.race([finished.then(() => true as const), deadline]);
      clearTimeout(timer);
      if (!inTime) server.closeAllConnections();
      return inTime;
    },
  };
}
