import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import supertest from 'supertest';
import { createLatch, type Latch } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import type { MailOptions } from '../../src/mail/mail.js';
import { createTestDatabase } from './database.js';
import { findFreePort } from './free-port.js';

export interface RunningLatch {
  latch: Latch;
  config: Config;
  databaseUrl: string;
  baseUrl: string;
  /** supertest against the real server on 127.0.0.1. */
  http(): supertest.Agent;
  /** With ADMIN_PORT set: the admin listener's URL (otherwise baseUrl serves the admin API). */
  adminUrl?: string;
  /** Every log line written so far, raw, as the operator would see it. */
  logs(): string;
  stop(): Promise<void>;
}

/** Cheap argon2 parameters keep the suite fast; the hasher's own tests use the real defaults. */
const TEST_ENVIRONMENT = {
  NODE_ENV: 'test',
  LATCH_COOKIE_KEYS: 'test-cookie-key-0123456789-0123456789',
  LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64url'),
  LOG_LEVEL: 'debug',
  ARGON2_MEMORY_KIB: '8192',
  ARGON2_ITERATIONS: '1',
};

export interface StartOptions {
  /** Latch's clock, for tests that move time. */
  now?: () => Date;
  keyWatchIntervalMs?: number;
  /** A migrated database the test owns (its own server, a relay): used as it is, and left in place. */
  databaseUrl?: string;
  /** Mail delivery (tests poll and retry quickly by default). */
  mail?: MailOptions;
}

/**
 * Starts the real Latch app (the same composition as src/main.ts) on its own fresh database,
 * listening on loopback only.
 */
export async function startLatch(environment: Record<string, string> = {}, { now, keyWatchIntervalMs, databaseUrl, mail = {} }: StartOptions = {}): Promise<RunningLatch> {
  const database = databaseUrl ? { url: databaseUrl, drop: async () => {} } : await createTestDatabase();
  // The issuer must be the address clients reach, so the port is chosen before the config is read.
  const port = await findFreePort();
  const config = loadConfig({ ...TEST_ENVIRONMENT, PORT: String(port), ISSUER: `http://127.0.0.1:${port}`, DATABASE_URL: database.url, ...environment });

  const logStream = new PassThrough();
  const lines: string[] = [];
  logStream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
  const logger = createLogger(config.logLevel, logStream);

  const latch = await createLatch(config, { databaseUrl: database.url, logger, now, keyWatchIntervalMs, mail: { pollIntervalMs: 200, ...mail, retry: { baseDelayMs: 200, maxDelayMs: 1000, ...mail.retry } } });
  const server: Server = createServer(latch.app.callback());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = config.issuer;
  const adminServer = latch.adminApp && config.admin ? createServer(latch.adminApp.callback()) : undefined;
  if (adminServer && config.admin) {
    adminServer.listen(config.admin.port, '127.0.0.1');
    await once(adminServer, 'listening');
  }

  return {
    latch,
    config,
    databaseUrl: database.url,
    baseUrl,
    http: () => supertest.agent(baseUrl),
    adminUrl: config.admin ? `http://127.0.0.1:${config.admin.port}` : undefined,
    logs: () => lines.join(''),
    async stop() {
      for (const listener of [server, adminServer]) {
        listener?.closeAllConnections();
        listener?.close();
      }
      await latch.close();
      await database.drop();
    },
  };
}
