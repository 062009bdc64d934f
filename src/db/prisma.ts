import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

export type { PrismaClient };

/** The client or one of its interactive transactions: repositories take either, so a service can join several writes in one transaction. */
export type Database = Prisma.TransactionClient;

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
  return new PrismaClient({ adapter });
}
