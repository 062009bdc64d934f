import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import supertest from 'supertest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../src/db/embedded-postgres.js';
import { runMigrationsInChildProcess } from '../../src/db/run-migrations.js';
import { createLogger } from '../../src/logger.js';
import { registerClient } from '../support/clients.js';
import { findFreePort } from '../support/free-port.js';
import { startLatch, type RunningLatch } from '../support/latch.js';

/** The postmaster and every backend it forked: freezing them all is a server that no longer answers, with its sockets open. */
async function postgresProcesses(dataDir: string): Promise<number[]> {
  const postmaster = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after the command name, which is in parentheses and may hold spaces: state, then the parent's pid.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parent === postmaster) children.push(Number(entry));
  }
  return [postmaster, ...children];
}

/**
 * PostgreSQL stalls (every process stopped, connections open): requests must not hang with it.
 * With the statement and connection timeouts, each gets a 503 with Retry-After within seconds,
 * in its endpoint's own format, and Latch serves again once PostgreSQL resumes.
 */
describe('a stalled database', () => {
  const TIMEOUT_SECONDS = 1;
  // The statement timeout, the driver's grace, a wait for a pool connection and slack for a busy machine.
  const ANSWER_WITHIN_MS = 6_000;
  let directory: string;
  let postgres: RunningPostgres;
  let running: RunningLatch;
  let frozen: number[] = [];
  const logger = createLogger('silent');

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'latch-stall-'));
    await chmod(directory, 0o755);
    postgres = await startEmbeddedPostgres({ dataDir: join(directory, 'postgres'), port: await findFreePort(), logger });
    await runMigrationsInChildProcess(postgres.url, logger);
    running = await startLatch(
      { LOG_LEVEL: 'silent', DATABASE_POOL_MAX: '3', DATABASE_STATEMENT_TIMEOUT: String(TIMEOUT_SECONDS), DATABASE_CONNECT_TIMEOUT: String(TIMEOUT_SECONDS) },
      { databaseUrl: postgres.url },
    );
  });

  afterAll(async () => {
    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    await running?.stop();
    await postgres?.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After within seconds while PostgreSQL is frozen, and serves again when it resumes', async () => {
    const http = () => supertest(running.baseUrl);
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const token = () => http().post('/token').auth(client.client_id, client.client_secret as string).type('form').send({ grant_type: 'client_credentials' }).timeout(ANSWER_WITHIN_MS);
    const register = (email: string) => http().post('/api/v1/users').send({ email, password: 'correct horse battery staple' }).timeout(ANSWER_WITHIN_MS);
    expect((await token()).status).toBe(200);
    expect((await register('before@example.com')).status).toBe(201);

    frozen = await postgresProcesses(join(directory, 'postgres'));
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');

    // More requests than the pool has connections: some wait for one, and must not wait forever either.
    const started = Date.now();
    const [tokens, registrations, readiness] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, () => token())),
      Promise.all(Array.from({ length: 3 }, (_, index) => register(`during-${index}@example.com`))),
      new Promise((resolve) => setTimeout(resolve, 1_100)).then(() => http().get('/readyz').timeout(ANSWER_WITHIN_MS)),
    ]);
    expect(Date.now() - started).toBeLessThan(ANSWER_WITHIN_MS);

    for (const answer of tokens) {
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.body).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
    }
    for (const answer of registrations) {
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({ type: 'urn:latch:problem:unavailable', status: 503 });
    }
    expect(readiness.status).toBe(503);
    expect(readiness.headers['retry-after']).toBe('5');

    for (const pid of frozen) process.kill(pid, 'SIGCONT');
    frozen = [];

    expect((await token()).status).toBe(200);
    expect((await register('after@example.com')).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await http().get('/readyz').expect(200);
  });
});
