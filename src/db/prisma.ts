import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

/** A bounded node-postgres pool: the only way Latch opens database connections. */
export function createConnectionPool(databaseUrl: string, poolMax: number): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max: poolMax, connectionTimeoutMillis: 5_000 });
}

/** A Prisma client over a pool it owns: $disconnect ends the pool. */
export function createPrismaClient(pool: pg.Pool): PrismaClient;
export function createPrismaClient(databaseUrl: string, poolMax: number): PrismaClient;
export function createPrismaClient(source: pg.Pool | string, poolMax = 10): PrismaClient {
  const pool = typeof source === 'string' ? createConnectionPool(source, poolMax) : source;
  // An idle connection dropped by the server (a restart, a failover) must not crash the process;
  // the pool replaces it on the next query.
  const adapter = new PrismaPg(pool, { disposeExternalPool: true, onPoolError: () => {} });
  // 'minimal': an error's message is its reason, without the code frame of the calling source
  // that Prisma otherwise prepends (noise in a log line, and in the CLI's one-line failures).
  return new PrismaClient({ adapter, errorFormat: 'minimal' });
}
