import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { runMigrationsInChildProcess } from '../../src/db/run-migrations.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { ADMIN_URL_VARIABLE, TEMPLATE_DATABASE, databaseUrl } from './database.js';
import { findFreePort } from './free-port.js';
import { query } from './sql.js';

/**
 * Runs once before all test files (through global-setup.ts): picks the PostgreSQL server
 * (DATABASE_URL, or a throwaway embedded one), migrates the template database every test
 * database is copied from, and hands the server's URL to the jest workers, which inherit this
 * process's environment.
 */
export async function startTestServer(): Promise<void> {
  const logger = createLogger('warn', process.stderr);
  const server = process.env.DATABASE_URL ? externalServer(process.env.DATABASE_URL) : await throwawayServer(logger);
  // Kept for stopTestServer on globalThis, which jest's global setup and teardown share, whatever module instances they load.
  (globalThis as TeardownHolder)[TEARDOWN] = server.teardown;
  try {
    await dropTemplate(server.adminUrl);
    await query(server.adminUrl, `CREATE DATABASE "${TEMPLATE_DATABASE}"`);
    await runMigrationsInChildProcess(databaseUrl(server.adminUrl, TEMPLATE_DATABASE), logger);
  } catch (error) {
    // jest skips the global teardown when the setup fails; an embedded server would outlive the run.
    await stopTestServer();
    throw error;
  }
  process.env[ADMIN_URL_VARIABLE] = server.adminUrl;
}

/** Run by global-teardown.ts. */
export async function stopTestServer(): Promise<void> {
  const holder = globalThis as TeardownHolder;
  const teardown = holder[TEARDOWN];
  delete holder[TEARDOWN];
  await teardown?.();
}

const TEARDOWN: unique symbol = Symbol.for('latch.test.teardown');
interface TeardownHolder {
  [TEARDOWN]?: () => Promise<void>;
}

interface TestServer {
  adminUrl: string;
  teardown(): Promise<void>;
}

/** A server of the developer's or CI's: only the template is ours to remove. */
function externalServer(adminUrl: string): TestServer {
  return {
    adminUrl,
    teardown: () => dropTemplate(adminUrl),
  };
}

async function dropTemplate(adminUrl: string): Promise<void> {
  await query(adminUrl, `DROP DATABASE IF EXISTS "${TEMPLATE_DATABASE}" WITH (FORCE)`);
}

async function throwawayServer(logger: Logger): Promise<TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'latch-test-'));
  let postgres;
  try {
    // Run as root, PostgreSQL runs as a `postgres` user, who must be able to reach its data directory.
    await chmod(directory, 0o755);
    postgres = await startEmbeddedPostgres({ dataDir: join(directory, 'postgres'), port: await findFreePort(), logger });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  return {
    adminUrl: postgres.url,
    teardown: async () => {
      await postgres.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
