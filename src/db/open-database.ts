import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { findRunningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.js';

export interface OpenDatabase {
  url: string;
  /** Stops the embedded server when one was started; an external one is left alone. */
  stop(): Promise<void>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * DATABASE_URL's server, or without it the embedded PostgreSQL on the configured data directory.
 *
 * A command (the CLI, db:migrate) uses the embedded server of a Latch already running on the same
 * data directory, and starts (and then stops) one of its own only when none runs. The server
 * passes `ownsShutdown`: it always starts its own, since it stops it when it goes.
 *
 * embedded-postgres hooks SIGTERM and SIGINT to stop its server and exit at once. That suits a
 * command; a server that drains requests first passes `ownsShutdown`, and only those listeners of
 * the package's are taken off again (not others', such as tsx's).
 */
export async function openDatabase(config: Config, logger: Logger, { ownsShutdown = false } = {}): Promise<OpenDatabase> {
  const { database } = config;
  if (database.kind === 'external') return { url: database.url, stop: async () => {} };
  if (!ownsShutdown) {
    const running = await findRunningEmbeddedPostgres(database.dataDir);
    if (running) {
      logger.debug({ dataDir: database.dataDir }, 'using the embedded PostgreSQL of the Latch running on this data directory');
      return running;
    }
  }
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const server = await startEmbeddedPostgres({ dataDir: database.dataDir, port: database.port, logger });
  if (ownsShutdown) {
    for (const signal of SIGNALS) {
      for (const listener of process.listeners(signal)) if (!before.get(signal)?.has(listener)) process.off(signal, listener);
    }
  }
  return server;
}
