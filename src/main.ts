import type { Server } from 'node:http';
import { createLatch } from './app.js';
import { listen } from './http/listen.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './db/open-database.js';
import { runMigrationsInChildProcess } from './db/run-migrations.js';
import { drainableServer } from './http/drainable-server.js';
import { createLogger } from './logger.js';
import { startMetricsServer } from './metrics/metrics-server.js';

function announceDevelopmentMode(config: Config, dataDir: string): void {
  const lines = [
    'Latch is running in DEVELOPMENT mode on an embedded PostgreSQL.',
    `  data:      ${dataDir}`,
    `  issuer:    ${config.issuer}`,
    `  listening: http://${config.http.host}:${config.http.port}`,
    ...(config.admin ? [`  admin API: http://${config.admin.host}:${config.admin.port}/api/v1/admin`] : []),
    `  metrics:   http://${config.metrics.host}:${config.metrics.port}/metrics`,
    'Set DATABASE_URL (and NODE_ENV=production) to run against a real PostgreSQL server.',
  ];
  if (config.secrets.developmentSecretsFile) lines.push(`  secrets:   ${config.secrets.developmentSecretsFile} (generated: set LATCH_COOKIE_KEYS and LATCH_KEY_ENCRYPTION_KEY for real use)`);
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
  // Latch's own shutdown drains requests, then stops the embedded server.
  const database = await openDatabase(config, logger, { ownsShutdown: true });
  if (config.migrateOnStart) {
    const applied = await runMigrationsInChildProcess(database.url, logger);
    logger.info({ applied }, applied.length > 0 ? 'database migrated' : 'database schema is up to date');
  }

  const latch = await createLatch(config, { databaseUrl: database.url, logger });
  const { server, drain } = drainableServer(latch.app.callback());
  // With ADMIN_PORT, the admin surface's own listener, drained alike on shutdown.
  const admin = latch.adminApp && config.admin ? { ...drainableServer(latch.adminApp.callback()), address: config.admin } : undefined;
  let metricsServer: Server;
  try {
    await listen(server, config.http, 'PORT');
    if (admin) await listen(admin.server, admin.address, 'ADMIN_PORT');
    metricsServer = await startMetricsServer(latch.metrics.registry, config.metrics);
  } catch (error) {
    // A taken port must not leave the embedded PostgreSQL running behind the failed start.
    server.close();
    admin?.server.close();
    await latch.close();
    await database.stop();
    throw error;
  }
  logger.info(
    { issuer: config.issuer, host: config.http.host, port: config.http.port, adminHost: config.admin?.host, adminPort: config.admin?.port, metricsPort: config.metrics.port, database: config.database.kind },
    'Latch is listening',
  );
  if (config.database.kind === 'embedded') announceDevelopmentMode(config, config.database.dataDir);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, deadlineSeconds: config.http.shutdownTimeout }, 'shutting down: finishing requests in flight');
    // The pool closes only once no handler can still be using it.
    const drains = await Promise.all([drain(config.http.shutdownTimeout), ...(admin ? [admin.drain(config.http.shutdownTimeout)] : [])]);
    const drained = drains.every(Boolean);
    metricsServer.close();
    await latch.close();
    await database.stop();
    logger.info({ drained }, drained ? 'stopped' : 'stopped at the deadline, cutting requests still open');
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
}

main().catch((error: unknown) => {
  process.stderr.write(`Latch failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
