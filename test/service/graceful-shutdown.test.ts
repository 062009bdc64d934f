import { request } from 'node:http';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { findFreePort } from '../support/free-port.js';
import { spawnLatch } from '../support/process.js';

function register(port: number, email: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ email, password: 'correct horse battery staple' });
    const outgoing = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/users', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

describe('graceful shutdown', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await database.drop();
  });

  it('on SIGTERM finishes every request already accepted, refuses new ones, and exits 0', async () => {
    const port = await findFreePort();
    const latch = await spawnLatch({
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'false',
      LATCH_COOKIE_KEYS: 'shutdown-cookie-key-0123456789-0123456789',
      LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64url'),
      SHUTDOWN_TIMEOUT: '20',
    });

    // Real argon2id cost (the defaults) keeps these requests in flight for a while.
    const inFlight = Array.from({ length: 24 }, (_, index) => register(port, `drain-${index}@example.com`));
    await Promise.race(inFlight);
    const exited = latch.stop('SIGTERM');

    const statuses = await Promise.all(inFlight);
    expect(statuses).toEqual(Array(24).fill(201));
    expect(await exited).toBe(0);
    await expect(register(port, 'too-late@example.com')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(latch.stdout()).toMatch(/"drained":true/);
  });
});
