import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { DatabasePoolOptions } from '../config.js';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

export type { PrismaClient };

/** The client or one of its interactive transactions: repositories take either, so a service can join several writes in one transaction. */
export type Database = Prisma.TransactionClient;

/**
 * PostgreSQL cancels a statement at the statement timeout; the driver gives up this much later,
 * for a server that cannot even answer (frozen, or the network gone without a reset).
 */
const CLIENT_GRACE_MS = 1_000;

/**
 * A bounded node-postgres pool: the only way Latch opens database connections. Every wait on the
 * database is bounded, so that a stalled server turns into 503s within seconds instead of
 * requests that hang for as long as their clients wait.
 */
export function createConnectionPool(
  databaseUrl: string,
  // Short-lived pools (the CLI's, tests') take the configuration's own default timeouts.
  { poolMax, statementTimeoutMs = 5_000, connectTimeoutMs = 5_000 }: Pick<DatabasePoolOptions, 'poolMax'> & Partial<DatabasePoolOptions>,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolMax,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_GRACE_MS,
  });
  // An idle connection dropped by the server (a restart, a failover, a CLI's embedded PostgreSQL
  // stopping) must not crash the process: the pool replaces it on the next query.
  pool.on('error', () => {});
  return pool;
}

/** A Prisma client over a pool it owns: $disconnect ends the pool. */
export function createPrismaClient(pool: pg.Pool): PrismaClient;
export function createPrismaClient(databaseUrl: string, poolMax: number): PrismaClient;
export function createPrismaClient(source: pg.Pool | string, poolMax = 10): PrismaClient {
  const pool = typeof source === 'string' ? createConnectionPool(source, { poolMax }) : source;
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  // 'minimal': an error's message is its reason, without the code frame of the calling source
  // that Prisma otherwise prepends (noise in a log line, and in the CLI's one-line failures).
  return new PrismaClient({ adapter, errorFormat: 'minimal' });
}
