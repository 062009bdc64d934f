import { createServer } from 'node:http';
import { once } from 'node:events';
import { createLatch } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import { runMigrationsInChildProcess } from './db/run-migrations.js';
import { createLogger, type Logger } from './logger.js';

interface Database {
  url: string;
  stop(): Promise<void>;
}

async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  if (config.database.kind === 'external') return { url: config.database.url, stop: async () => {} };
  const { dataDir, port } = config.database;
  return startEmbeddedPostgres({ dataDir, port, logger });
}

function announceDevelopmentMode(config: Config, dataDir: string): void {
  const lines = [
    'Latch is running in DEVELOPMENT mode on an embedded PostgreSQL.',
    `  data:      ${dataDir}`,
    `  issuer:    ${config.issuer}`,
    `  listening: http://${config.http.host}:${config.http.port}`,
    'Set DATABASE_URL (and NODE_ENV=production) to run against a real PostgreSQL server.',
  ];
  if (config.usesEphemeralSecrets) lines.push('No LATCH_COOKIE_KEYS set: a random key was generated, so sessions end when Latch restarts.');
  const width = Math.max(...lines.map((line) => line.length));
  const rule = '='.repeat(width);
  process.stderr.write(`\n${rule}\n${lines.join('\n')}\n${rule}\n\n`);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.logLevel);
  const database = await openDatabase(config, logger);
  if (config.migrateOnStart) {
    const applied = await runMigrationsInChildProcess(database.url, logger);
    logger.info({ applied }, applied.length > 0 ? 'database migrated' : 'database schema is up to date');
  }

  const latch = createLatch(config, { databaseUrl: database.url, logger });
  const server = createServer(latch.app.callback());
  server.listen(config.http.port, config.http.host);
  await once(server, 'listening');
  logger.info({ issuer: config.issuer, host: config.http.host, port: config.http.port, database: config.database.kind }, 'Latch is listening');
  if (config.database.kind === 'embedded') announceDevelopmentMode(config, config.database.dataDir);

  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    server.close();
    await latch.close();
    await database.stop();
    process.exit(0);
  };
  process.once('SIGTERM', (signal) => void shutdown(signal));
  process.once('SIGINT', (signal) => void shutdown(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(`Latch failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
