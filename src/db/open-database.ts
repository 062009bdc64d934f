import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export interface OpenDatabase {
  url: string;
  /** Stops the embedded server when one was started; an external one is left alone. */
  stop(): Promise<void>;
}

/** DATABASE_URL's server, or without it the embedded PostgreSQL, started for the caller. */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenDatabase> {
  const { database } = config;
  if (database.kind === 'external') return { url: database.url, stop: async () => {} };
  return startEmbeddedPostgres({ dataDir: database.dataDir, port: database.port, logger });
}
