import type { Response } from 'supertest';
import { Browser } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';
import { Authorization, PASSWORD, signInForm, testClient, uniqueEmail, type TestClient } from '../interactions/support.js';
import type * as oidc from 'openid-client';

const REGISTRATION_LIMIT = 3;
const ACCOUNT_LIMIT = 3;
const NEW_PASSWORD = 'a different and still memorable passphrase';

let running: RunningLatch;
let formClient: TestClient;
let app: oidc.Configuration;

beforeAll(async () => {
  running = await startLatch({
    REGISTRATIONS_PER_IP_PER_MINUTE: String(REGISTRATION_LIMIT),
    SIGNIN_MAX_FAILURES_PER_ACCOUNT: String(ACCOUNT_LIMIT),
    SIGNIN_MAX_FAILURES_PER_IP: '100',
    SIGNIN_LOCKOUT_SECONDS: '900',
  });
  formClient = await testClient(running);
  app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
});

afterAll(async () => {
  await running?.stop();
});

// Every test starts with no counters: they all come from 127.0.0.1.
beforeEach(async () => {
  await query(running.databaseUrl, 'DELETE FROM rate_limits');
});

const register = (email = uniqueEmail()) => running.http().post('/api/v1/users').send({ email, password: PASSWORD });

function expectThrottled(response: Response, maxSeconds: number) {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status: 429, type: 'urn:latch:problem:too-many-requests', detail: expect.any(String) });
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

/** A user created without the API, so that no registration is counted. */
async function accountOf(): Promise<TestUser> {
  const email = uniqueEmail();
  const user = await running.latch.accounts.register({ email, password: PASSWORD });
  return { id: user.id, email, password: PASSWORD };
}

async function formSignIn(email: string, password: string) {
  const browser = new Browser();
  const page = await (await Authorization.start(formClient)).open(browser);
  return signInForm(page, email, password, browser);
}

describe('POST /api/v1/users', () => {
  it('is limited per network like the registration page, failed and conflicting attempts included', async () => {
    const taken = (await accountOf()).email;
    expect((await register()).status).toBe(201);
    expect((await register(taken)).status).toBe(409);
    expect((await running.http().post('/api/v1/users').send({ email: uniqueEmail(), password: 'short' })).status).toBe(400);

    const refused = await register();
    expectThrottled(refused, 60);
    // Refused before the email is looked at: a taken address answers the same.
    expectThrottled(await register(taken), 60);
    expect(await query(running.databaseUrl, "SELECT points FROM rate_limits WHERE key = 'registration_ip:127.0.0.1'")).toEqual([{ points: REGISTRATION_LIMIT + 2 }]);
  });

  it('shares its counter with the registration page', async () => {
    for (let count = 0; count < REGISTRATION_LIMIT; count += 1) expect((await register()).status).toBe(201);

    const browser = new Browser();
    const login = await (await Authorization.start(formClient)).open(browser);
    const link = /href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string;
    const form = await browser.navigate(new URL(link, running.baseUrl));
    const page = await browser.submit(form, { email: uniqueEmail(), password: PASSWORD }, { button: 'Create account' });

    expect(page.status).toBe(429);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('current-password checks', () => {
  const changePassword = (token: string, current: string, next = NEW_PASSWORD) =>
    running.http().put('/api/v1/users/me/password').set('Authorization', `Bearer ${token}`).send({ current_password: current, new_password: next });
  const deleteAccount = (token: string, current: string) => running.http().delete('/api/v1/users/me').set('Authorization', `Bearer ${token}`).send({ current_password: current });
  const tokenOf = async (user: TestUser) => (await signIn(app, user, { scope: 'openid' })).tokens.access_token;

  it('count as sign-in failures of the account, on the same counter as the sign-in page', async () => {
    const user = await accountOf();
    const token = await tokenOf(user);
    // Alternating surfaces gains nothing: two guesses here, one on the page.
    expect((await changePassword(token, 'guess one')).status).toBe(400);
    expect((await deleteAccount(token, 'guess two')).status).toBe(400);
    expect((await formSignIn(user.email, 'guess three')).status).toBe(401);

    expectThrottled(await changePassword(token, user.password), 900);
    expectThrottled(await deleteAccount(token, user.password), 900);
    expect((await formSignIn(user.email, user.password)).status).toBe(429);
    expect(await query(running.databaseUrl, 'SELECT 1 FROM users WHERE id = $1', [user.id])).toHaveLength(1);
  });

  it('lock the API once the sign-in page has locked the account', async () => {
    const user = await accountOf();
    const token = await tokenOf(user);
    for (let failure = 0; failure < ACCOUNT_LIMIT; failure += 1) expect((await formSignIn(user.email, 'a wrong guess')).status).toBe(401);

    expectThrottled(await deleteAccount(token, user.password), 900);
    expect(await query(running.databaseUrl, 'SELECT 1 FROM users WHERE id = $1', [user.id])).toHaveLength(1);
  });

  it('do not count a right current password, even when the new one is refused', async () => {
    const user = await accountOf();
    const token = await tokenOf(user);
    for (let attempt = 0; attempt < ACCOUNT_LIMIT + 1; attempt += 1) {
      expect((await changePassword(token, user.password, 'password')).status).toBe(400);
    }
    expect((await changePassword(token, user.password)).status).toBe(204);
    expect((await deleteAccount(token, NEW_PASSWORD)).status).toBe(204);
  });
});
