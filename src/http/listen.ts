import { once } from 'node:events';
import type { Server } from 'node:http';

/**
 * Listens, and turns a taken port into a message naming the variable that chose it (PORT,
 * METRICS_PORT) and what to do, instead of Node's bare "listen EADDRINUSE".
 */
export async function listen(server: Server, { host, port }: { host: string; port: number }, variable: string): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new Error(
      `${variable}: port ${port} on ${host} is already in use (is Latch already running?). Stop what listens there, or set ${variable} to a free port.`,
      { cause: error },
    );
  }
}
