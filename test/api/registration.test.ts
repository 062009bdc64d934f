import { randomUUID } from 'node:crypto';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';

let latch: RunningLatch;

beforeAll(async () => {
  latch = await startLatch();
});

afterAll(async () => {
  await latch.stop();
});

const STRONG_PASSWORD = 'correct horse battery staple';
const uniqueEmail = () => `user-${randomUUID()}@example.com`;

async function countRows(): Promise<{ users: number; profiles: number }> {
  const [row] = await query<{ users: string; profiles: string }>(
    latch.databaseUrl,
    'SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM profiles) AS profiles',
  );
  return { users: Number(row?.users), profiles: Number(row?.profiles) };
}

function expectProblem(response: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, status: number) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, instance: expect.any(String), type: expect.stringMatching(/^urn:latch:problem:/) });
  expect(JSON.stringify(response.body)).not.toMatch(/\n\s+at /);
}

function pointersOf(body: { errors?: { pointer: string }[] }): string[] {
  return (body.errors ?? []).map((error) => error.pointer).sort();
}

describe('POST /api/v1/users', () => {
  it('creates a user whose argon2id hash is in PostgreSQL and never in the response', async () => {
    const email = uniqueEmail();
    const response = await latch.http().post('/api/v1/users').send({ email, password: STRONG_PASSWORD, name: 'Ada Lovelace' });

    expect(response.status).toBe(201);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers.location).toBe(`/api/v1/users/${response.body.id}`);
    expect(response.body).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email,
      email_verified: false,
      status: 'active',
      name: 'Ada Lovelace',
      given_name: null,
      phone_number_verified: false,
    });
    expect(JSON.stringify(response.body)).not.toMatch(/argon2|password/i);

    const [row] = await query<{ password_hash: string; name: string }>(
      latch.databaseUrl,
      'SELECT u.password_hash, p.name FROM users u JOIN profiles p ON p.user_id = u.id WHERE u.id = $1',
      [response.body.id],
    );
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    expect(row?.name).toBe('Ada Lovelace');
  });

  it('answers 409 for an email that exists in another case, and writes nothing', async () => {
    const email = uniqueEmail();
    await latch.http().post('/api/v1/users').send({ email, password: STRONG_PASSWORD }).expect(201);
    const before = await countRows();

    const response = await latch.http().post('/api/v1/users').send({ email: email.toUpperCase(), password: STRONG_PASSWORD });

    expectProblem(response, 409);
    expect(response.body.type).toBe('urn:latch:problem:conflict');
    expect(await countRows()).toEqual(before);
  });

  it.each([
    ['missing fields', {}, ['#/email', '#/password']],
    ['wrong types', { email: 42, password: ['x'], name: false }, ['#/email', '#/name', '#/password']],
    ['unknown fields', { email: 'a@example.com', password: STRONG_PASSWORD, role: 'admin', isAdmin: true }, ['#/isAdmin', '#/role']],
    ['a malformed email', { email: 'not-an-email', password: STRONG_PASSWORD }, ['#/email']],
    ['a password of 7 characters', { email: 'seven@example.com', password: 'abcdefg' }, ['#/password']],
    ['a common password', { email: 'common@example.com', password: 'password123' }, ['#/password']],
    ['the email as password', { email: 'alice.smith@example.com', password: 'alice.smith@example.com' }, ['#/password']],
    ['a body that is an array', [{ email: 'a@example.com' }], ['#']],
  ])('answers 400 problem+json naming each bad field for %s, and writes nothing', async (_case, body, pointers) => {
    const before = await countRows();

    const response = await latch.http().post('/api/v1/users').send(body);

    expectProblem(response, 400);
    expect(response.body.type).toBe('urn:latch:problem:invalid-request');
    expect(pointersOf(response.body)).toEqual(pointers);
    for (const error of response.body.errors) expect(error.detail).toEqual(expect.any(String));
    expect(await countRows()).toEqual(before);
  });

  it('accepts a 64-character password with spaces and symbols', async () => {
    const password = 'ünïcödé pässwörd with spaces & symbols! 1234567890 abcdefghijklm';
    expect([...password]).toHaveLength(64);
    await latch.http().post('/api/v1/users').send({ email: uniqueEmail(), password }).expect(201);
  });

  it('answers 400 for malformed JSON', async () => {
    const response = await latch.http().post('/api/v1/users').set('Content-Type', 'application/json').send('{"email": "a@example.com", ');

    expectProblem(response, 400);
    expect(pointersOf(response.body)).toEqual(['#']);
    expect(response.body.detail).toMatch(/not valid JSON/);
  });

  it('answers 400 for an oversized body without reading it all into the service', async () => {
    const before = await countRows();
    const response = await latch
      .http()
      .post('/api/v1/users')
      .send({ email: uniqueEmail(), password: STRONG_PASSWORD, name: 'x'.repeat(20_000) });

    expectProblem(response, 400);
    expect(response.body.detail).toMatch(/too large/);
    expect(await countRows()).toEqual(before);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const response = await latch.http().post('/api/v1/users').type('form').send({ email: uniqueEmail(), password: STRONG_PASSWORD });

    expectProblem(response, 415);
  });

  it('never writes passwords or hashes to the log', async () => {
    const password = `log-canary-${randomUUID()}`;
    const email = uniqueEmail();
    await latch.http().post('/api/v1/users').send({ email, password }).expect(201);
    await latch.http().post('/api/v1/users').send({ email, password }).expect(409);
    await latch.http().post('/api/v1/users').send({ email: password, password }).expect(400);
    const [row] = await query<{ password_hash: string }>(latch.databaseUrl, 'SELECT password_hash FROM users WHERE email = $1', [email]);

    const logs = latch.logs();
    expect(logs).toContain('"requestId"');
    expect(logs).toMatch(/"requestId":"[0-9a-f-]{36}"[^\n]*"event":"account.registered"/);
    expect(logs).not.toContain(password);
    expect(logs).not.toContain(row?.password_hash);
    expect(logs).not.toContain('$argon2id$');
  });
});

describe('the REST router', () => {
  it('echoes a well-formed X-Request-Id and replaces a suspicious one', async () => {
    const kept = await latch.http().post('/api/v1/users').set('X-Request-Id', 'abc-123').send({});
    expect(kept.headers['x-request-id']).toBe('abc-123');
    expect(kept.body.request_id).toBe('abc-123');

    const replaced = await latch.http().post('/api/v1/users').set('X-Request-Id', 'bad id <script>').send({});
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown paths with 404 and unsupported methods with 405, as problem+json', async () => {
    expectProblem(await latch.http().get('/api/v1/nothing-here'), 404);
    const response = await latch.http().get('/api/v1/users');
    expectProblem(response, 405);
    expect(response.headers.allow).toContain('POST');
  });

  it('hides the cause of an unexpected failure behind a generic 500', async () => {
    const broken = await startLatch();
    // Dropping the database under the running app is a fault the handlers cannot anticipate.
    await query(broken.databaseUrl, 'DROP TABLE profiles CASCADE');
    try {
      const response = await broken.http().post('/api/v1/users').send({ email: uniqueEmail(), password: STRONG_PASSWORD });

      expectProblem(response, 500);
      expect(response.body.detail).not.toMatch(/profiles|prisma|relation/i);
      expect(broken.logs()).toMatch(/"level":50.*request failed/);
    } finally {
      await broken.stop();
    }
  });
});
