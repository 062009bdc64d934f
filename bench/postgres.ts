/**
 * The bench's PostgreSQL: DATABASE_URL's server when set, else a throwaway embedded one. Statements
 * are counted with pg_stat_statements, preloaded into the embedded server (a restart after ALTER
 * SYSTEM); on an external server the extension is used when it is already preloaded there.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { runMigrationsInChildProcess } from '../src/db/run-migrations.js';
import type { Logger } from '../src/logger.js';
import { freePort } from './ports.js';

export interface BenchDatabase {
  url: string;
  /** Where the server comes from, for the report. */
  description: string;
  /** Statements executed in this database so far; undefined when pg_stat_statements is unavailable. */
  statements(): Promise<number | undefined>;
  /** Calls so far of each statement text, for telling what a scenario's statements are. */
  statementsByQuery(): Promise<Map<string, number>>;
  query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export async function openBenchDatabase(databaseUrl: string | undefined, logger: Logger): Promise<BenchDatabase> {
  let stopServer = async () => {};
  let url = databaseUrl;
  let description = 'DATABASE_URL';
  if (!url) {
    const directory = await mkdtemp(join(tmpdir(), 'latch-bench-'));
    await chmod(directory, 0o755);
    const dataDir = join(directory, 'postgres');
    const port = await freePort();
    const first = await startEmbeddedPostgres({ dataDir, port, logger });
    const setup = new pg.Client({ connectionString: first.url });
    await setup.connect();
    await setup.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    await setup.end();
    await first.stop();
    const server = await startEmbeddedPostgres({ dataDir, port, logger });
    url = server.url;
    description = 'embedded PostgreSQL';
    stopServer = async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    };
  }
  await runMigrationsInChildProcess(url, logger);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  const version = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
  description = `${description}, PostgreSQL ${version}`;
  let counting = true;
  try {
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await pool.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
  } catch {
    counting = false;
    description += ' (pg_stat_statements unavailable: statements not counted)';
  }
  return {
    url,
    description,
    async statements() {
      if (!counting) return undefined;
      const { rows } = await pool.query<{ calls: string | null }>(
        `SELECT sum(calls) AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = current_database() AND s.query NOT ILIKE '%pg_stat_statements%'`,
      );
      return Number(rows[0]?.calls ?? 0);
    },
    async statementsByQuery() {
      if (!counting) return new Map();
      const { rows } = await pool.query<{ query: string; calls: string }>(
        `SELECT s.query, s.calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = current_database() AND s.query NOT ILIKE '%pg_stat_statements%'`,
      );
      return new Map(rows.map((row) => [row.query, Number(row.calls)]));
    },
    async query<T extends pg.QueryResultRow>(sql: string, values?: unknown[]) {
      return (await pool.query<T>(sql, values)).rows;
    },
    async stop() {
      await pool.end();
      await stopServer();
    },
  };
}
