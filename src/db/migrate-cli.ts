import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { openDatabase } from './open-database.js';
import { applyMigrations, defaultMigrationsDir } from './migrations.js';

/**
 * `npm run db:migrate`: applies the pending migrations to DATABASE_URL or, without it, to the
 * embedded PostgreSQL (started for the occasion and stopped after). Exits explicitly: the schema
 * engine leaves a timer pending. Failures print their message only: they are expected ones
 * (configuration, unreachable server, failing migration), and LOG_LEVEL=debug logs the details.
 */

async function main(): Promise<string> {
  const config = loadConfig(process.env);
  // stdout is for this command's report; the log goes to stderr.
  const logger = createLogger(config.logLevel, process.stderr);
  const server = await openDatabase(config, logger);
  try {
    const applied = await applyMigrations(server.url, defaultMigrationsDir, logger);
    return applied.length === 0
      ? 'The database is up to date: no migration to apply.'
      : `Applied ${applied.length} migration(s):\n${applied.map((name) => `  ${name}`).join('\n')}`;
  } catch (error) {
    logger.debug({ err: error }, 'migration failed');
    throw error;
  } finally {
    await server.stop();
  }
}

main().then(
  (report) => exitAfterWriting(process.stdout, `${report}\n`, 0),
  (error: unknown) =>
    exitAfterWriting(process.stderr, `db:migrate failed: ${(error instanceof Error ? error.message : String(error)).trimEnd()}\n`, 1),
);

/** process.exit drops output still queued on a pipe. */
function exitAfterWriting(stream: NodeJS.WriteStream, text: string, code: number): void {
  stream.write(text, () => process.exit(code));
}
