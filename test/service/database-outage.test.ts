import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/db/embedded-postgres.js';
import { runMigrationsInChildProcess } from '../../src/db/run-migrations.js';
import { createLogger } from '../../src/logger.js';
import { registerClient } from '../support/clients.js';
import { findFreePort } from '../support/free-port.js';
import { startLatch, type RunningLatch } from '../support/latch.js';

/**
 * PostgreSQL goes away under traffic and comes back: Latch answers 503 meanwhile (OAuth endpoints
 * in the OAuth error format), /readyz fails, and afterwards it serves again with no restart and
 * with every acknowledged write intact. The database here is a server of this test's own.
 */
describe('a database outage', () => {
  let directory: string;
  let postgresPort: number;
  let postgres: RunningPostgres;
  let running: RunningLatch;
  let baseUrl: string;
  const logger = createLogger('silent');

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'latch-outage-'));
    await chmod(directory, 0o755);
    postgresPort = await findFreePort();
    postgres = await startEmbeddedPostgres({ dataDir: join(directory, 'postgres'), port: postgresPort, logger });
    await runMigrationsInChildProcess(postgres.url, logger);
    running = await startLatch({ LOG_LEVEL: 'silent' }, { databaseUrl: postgres.url });
    baseUrl = running.baseUrl;
  });

  afterAll(async () => {
    await running?.stop();
    await postgres?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('answers 503 while PostgreSQL is down and recovers by itself when it is back', async () => {
    const http = () => supertest(baseUrl);
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const token = () => http().post('/token').auth(client.client_id, client.client_secret as string).type('form').send({ grant_type: 'client_credentials' });
    const register = (email: string) => http().post('/api/v1/users').send({ email, password: 'correct horse battery staple' });

    const acknowledged: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const email = `before-${index}@example.com`;
      expect((await register(email)).status).toBe(201);
      acknowledged.push(email);
    }
    expect((await token()).status).toBe(200);

    // Background traffic for the whole outage; bounded in count, stopped at the end.
    const statuses = new Map<number, number>();
    let trafficRunning = true;
    const traffic = (async () => {
      for (let sent = 0; trafficRunning && sent < 2_000; sent += 1) {
        const { status } = await token();
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    })();

    await postgres.stop();

    const tokenDuringOutage = await token();
    expect(tokenDuringOutage.status).toBe(503);
    expect(tokenDuringOutage.headers['retry-after']).toBe('5');
    expect(tokenDuringOutage.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });

    const registrationDuringOutage = await register('during@example.com');
    expect(registrationDuringOutage.status).toBe(503);
    expect(registrationDuringOutage.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(registrationDuringOutage.body).toMatchObject({ type: 'urn:latch:problem:unavailable', status: 503 });

    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const readiness = await http().get('/readyz');
    expect(readiness.status).toBe(503);
    expect(readiness.body.checks.database).toBe('unreachable');
    await http().get('/healthz').expect(200);
    await http().get('/jwks').expect(200);

    postgres = await startEmbeddedPostgres({ dataDir: join(directory, 'postgres'), port: postgresPort, logger });

    // The pool reconnects on its own: the first requests after the restart succeed.
    expect((await token()).status).toBe(200);
    const after = await register('after@example.com');
    expect(after.status).toBe(201);
    for (const email of acknowledged) expect((await register(email)).status).toBe(409);
    expect((await register('during@example.com')).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await http().get('/readyz').expect(200);

    trafficRunning = false;
    await traffic;
    // Under traffic, every answer was a success or a clean 503: no 500, no dropped connection.
    expect([...statuses.keys()].sort()).toEqual([200, 503]);
  });
});
