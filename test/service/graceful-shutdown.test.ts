import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { findFreePort } from '../support/free-port.js';
import { spawnLatch } from '../support/process.js';
import { query } from '../support/sql.js';

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

interface Answer {
  status: number;
  connection: string | undefined;
  email?: string;
}

/** One request on the agent's connection: its answer, or the socket error it met. */
function send(agent: Agent, port: number, email?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = email === undefined ? undefined : JSON.stringify({ email, password: 'correct horse battery staple' });
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const path = body === undefined ? '/.well-known/openid-configuration' : '/api/v1/users';
    const outgoing = request({ host: '127.0.0.1', port, method: body === undefined ? 'GET' : 'POST', path, agent, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, email }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * A client on one keep-alive connection, sending registrations and reads back to back until the
 * server is no longer there to connect to. A reset or a hang-up on a request is recorded.
 */
async function keepAliveClient(port: number, answers: Answer[], failures: string[]): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let sent = 0; ; sent += 1) {
      try {
        answers.push(await send(agent, port, sent % 2 === 0 ? `load-${randomUUID()}@example.com` : undefined));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A new connection refused: the listener is gone, and a real client would go elsewhere.
        if (code !== 'ECONNREFUSED') failures.push(code ?? String(error));
        return;
      }
    }
  } finally {
    agent.destroy();
  }
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

  it('under keep-alive load, closes each connection after its current response, resets none and leaves no half-written row', async () => {
    const port = await findFreePort();
    const latch = await spawnLatch({
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'false',
      LATCH_COOKIE_KEYS: 'shutdown-cookie-key-0123456789-0123456789',
      LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64url'),
      SHUTDOWN_TIMEOUT: '20',
      REGISTRATIONS_PER_IP_PER_MINUTE: '100000',
    });

    const answers: Answer[] = [];
    const failures: string[] = [];
    const clients = Array.from({ length: 12 }, () => keepAliveClient(port, answers, failures));
    while (answers.length < 60) await new Promise((resolve) => setTimeout(resolve, 20));
    const exited = latch.stop('SIGTERM');
    await Promise.all(clients);

    expect(failures).toEqual([]);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 201)).toEqual([]);
    // Each client stopped only because its connection was closed by the server after a full answer that said so.
    const lastOfEach = answers.filter((answer) => answer.connection === 'close');
    expect(lastOfEach).toHaveLength(12);
    expect(await exited).toBe(0);
    expect(latch.stdout()).toMatch(/"drained":true/);
    expect(latch.stdout()).not.toMatch(/"level":(50|60)/);

    const registered = answers.filter((answer) => answer.status === 201).map((answer) => answer.email as string);
    const rows = await query<{ email: string; profile: string | null }>(
      database.url,
      "SELECT u.email, p.user_id AS profile FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.email LIKE 'load-%'",
    );
    expect(rows.filter((row) => row.profile === null)).toEqual([]);
    expect(rows.map((row) => row.email).sort()).toEqual(expect.arrayContaining(registered.sort()));
  });
});
