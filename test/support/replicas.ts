import { createTestDatabase, type TestDatabase } from './database.js';
import { findFreePort } from './free-port.js';
import { spawnLatch, type LatchProcess } from './process.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './round-robin-proxy.js';

export interface Replicas {
  /** The proxy's URL: the issuer every replica announces. */
  issuer: string;
  processes: LatchProcess[];
  /** Each process's own address, beside the proxy, to send a request to one of them. */
  urls: string[];
  databaseUrl: string;
  proxy: RoundRobinProxy;
  stop(): Promise<void>;
}

export const INITIAL_ACCESS_TOKEN = 'replicas-initial-access-token-0123456789abcdef';

/**
 * N Latch processes on one fresh database, behind a round-robin proxy, configured alike as a
 * deployment's replicas are (same issuer, same secrets), and started together.
 */
export async function startReplicas(count: number, environment: Record<string, string> = {}): Promise<Replicas> {
  const database: TestDatabase = await createTestDatabase();
  const proxyPort = await findFreePort();
  const issuer = `http://127.0.0.1:${proxyPort}`;
  const ports = await Promise.all(Array.from({ length: count }, () => findFreePort()));
  const shared = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    ISSUER: issuer,
    MIGRATE_ON_START: 'false',
    LATCH_COOKIE_KEYS: 'replicas-cookie-key-0123456789abcdef',
    LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64url'),
    LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
    ...environment,
  };
  const started = await Promise.allSettled(ports.map((port) => spawnLatch({ ...shared, PORT: String(port) })));
  const processes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    // Leave nothing running behind a failed start.
    await Promise.all(processes.map((latch) => latch.stop()));
    await database.drop();
    throw failure.reason;
  }
  const proxy = await startRoundRobinProxy(proxyPort, ports);
  return {
    issuer,
    processes,
    urls: ports.map((port) => `http://127.0.0.1:${port}`),
    databaseUrl: database.url,
    proxy,
    async stop() {
      await proxy.close();
      await Promise.all(processes.map((latch) => latch.stop()));
      await database.drop();
    },
  };
}
