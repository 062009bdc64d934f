/**
 * npm run bench: requests per second and latency percentiles of Latch's hot endpoints, served by
 * the real app on a throwaway embedded PostgreSQL, from a bounded load on loopback.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLatch } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { runMigrationsInChildProcess } from '../src/db/run-migrations.js';
import { createLogger } from '../src/logger.js';
import { createClientAdmin } from '../src/provider/client-admin.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

interface Result {
  name: string;
  perSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

async function measure(name: string, send: () => Promise<Response>): Promise<Result> {
  const durations: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next += 1;
        const start = performance.now();
        const response = await send();
        await response.arrayBuffer();
        durations.push(performance.now() - start);
        if (!response.ok) failures += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  const at = (quantile: number) => durations[Math.min(durations.length - 1, Math.floor(quantile * durations.length))] ?? 0;
  return { name, perSecond: REQUESTS / seconds, p50: at(0.5), p99: at(0.99), failures };
}

/** A port free on loopback now, chosen by the kernel. */
async function freePort(): Promise<number> {
  const probe = createNetServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  return port;
}

const PORT = await freePort();
const directory = await mkdtemp(join(tmpdir(), 'latch-bench-'));
await chmod(directory, 0o755);
const logger = createLogger('silent');
const postgres = await startEmbeddedPostgres({ dataDir: join(directory, 'postgres'), port: await freePort(), logger });
try {
  await runMigrationsInChildProcess(postgres.url, logger);
  const issuer = `http://127.0.0.1:${PORT}`;
  const config = loadConfig({
    NODE_ENV: 'production',
    ISSUER: issuer,
    PORT: String(PORT),
    DATABASE_URL: postgres.url,
    LATCH_COOKIE_KEYS: 'bench-cookie-key-0123456789-0123456789',
    LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64url'),
  });
  const latch = await createLatch(config, { databaseUrl: postgres.url, logger });
  const server = createServer(latch.app.callback()).listen(PORT, '127.0.0.1');
  await once(server, 'listening');

  const admin = createClientAdmin({
    store: latch.oidcStore,
    validate: (metadata) => latch.provider.current().Client.validate(metadata),
    now: () => new Date(),
    audit: latch.audit,
  });
  const { client, clientSecret } = await admin.create({ name: 'bench', grants: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], public: false, firstParty: false });
  const basic = `Basic ${Buffer.from(`${client.clientId}:${clientSecret}`).toString('base64')}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
  const token = await (await fetch(`${issuer}/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' })).json() as { access_token: string };

  const results = [
    await measure('GET /.well-known/openid-configuration', () => fetch(`${issuer}/.well-known/openid-configuration`)),
    await measure('GET /jwks', () => fetch(`${issuer}/jwks`)),
    await measure('GET /healthz', () => fetch(`${issuer}/healthz`)),
    await measure('POST /token (client_credentials, JWT)', () => fetch(`${issuer}/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' })),
    await measure('POST /token/introspection (JWT)', () =>
      fetch(`${issuer}/token/introspection`, { method: 'POST', headers: form, body: `token=${token.access_token}` }),
    ),
  ];

  process.stdout.write(`Latch bench: ${REQUESTS} requests per endpoint, ${CONCURRENCY} concurrent, one process, loopback\n\n`);
  process.stdout.write(`${'endpoint'.padEnd(42)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'failed'.padStart(8)}\n`);
  for (const result of results) {
    process.stdout.write(
      `${result.name.padEnd(42)}${result.perSecond.toFixed(0).padStart(9)}${result.p50.toFixed(2).padStart(9)}${result.p99.toFixed(2).padStart(9)}${String(result.failures).padStart(8)}\n`,
    );
  }
  server.close();
  await latch.close();
} finally {
  await postgres.stop();
  await rm(directory, { recursive: true, force: true });
}
process.exit(0);
