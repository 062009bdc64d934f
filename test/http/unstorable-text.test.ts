import { registerClient } from '../support/clients.js';
import { Browser, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';
import { Authorization, testClient, type TestClient } from '../interactions/support.js';

/** PostgreSQL holds neither of these: each used to reach it, fail the statement, and answer 500. */
const NUL = 'a\u0000b';
const LONE_SURROGATE = '\ud800';

const INITIAL_ACCESS_TOKEN = 'initial-access-token-0123456789-0123456789';

let running: RunningLatch;
let client: TestClient;

beforeAll(async () => {
  running = await startLatch({ LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
  client = await testClient(running);
});

afterAll(async () => {
  await running.stop();
});

const basic = () => `Basic ${Buffer.from(`${client.metadata.client_id}:${client.metadata.client_secret as string}`).toString('base64')}`;

function expectSecurityHeaders(headers: Headers) {
  expect(headers.get('x-content-type-options')).toBe('nosniff');
  expect(headers.get('x-frame-options')).toBe('DENY');
}

async function expectProblem(response: Response) {
  expect(response.status).toBe(400);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expectSecurityHeaders(response.headers);
  const body = (await response.json()) as { type: string; errors?: { pointer: string }[] };
  expect(body.type).toBe('urn:latch:problem:invalid-request');
  return body;
}

async function expectOAuthError(response: Response, error = 'invalid_request') {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status: 400 });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expectSecurityHeaders(response.headers);
  expect(JSON.parse(text)).toMatchObject({ error });
}

async function expectErrorPage(page: Page | Response) {
  const html = page instanceof Response ? await page.text() : page.html;
  expect({ status: page.status, html }).toMatchObject({ status: 400 });
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expectSecurityHeaders(page.headers);
  expect(html).not.toMatch(/Something went wrong/);
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: new URLSearchParams(fields).toString(),
});
const at = (path: string) => new URL(path, running.baseUrl);

describe('the REST API refuses text PostgreSQL cannot hold as problem+json, naming the field', () => {
  it.each([
    ['email', { email: `user${NUL}@example.com`, password: 'correct horse battery staple' }],
    ['name', { email: 'nul-name@example.com', password: 'correct horse battery staple', name: NUL }],
    ['password', { email: 'nul-password@example.com', password: `correct horse ${NUL}` }],
    ['name', { email: 'surrogate@example.com', password: 'correct horse battery staple', name: LONE_SURROGATE }],
  ])('POST /api/v1/users with a bad %s', async (field, body) => {
    const problem = await expectProblem(await fetch(at('/api/v1/users'), json(body)));
    expect(problem.errors?.map((error) => error.pointer)).toEqual([`#/${field}`]);
  });

  it('an unknown key that is a lone surrogate is answered, not a 500 of the error handler itself', async () => {
    const response = await fetch(at('/api/v1/users'), json('{"\\ud800": 1, "email": "x@example.com", "password": "correct horse battery staple"}'));
    const problem = await expectProblem(response);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(problem.errors).toHaveLength(1);
  });

  it('the same at every route, the path and query included', async () => {
    await expectProblem(await fetch(at('/api/v1/users/%00')));
    await expectProblem(await fetch(at('/api/v1/users/me?x=%00')));
  });

  it('PATCH /users/me with a NUL in any profile claim', async () => {
    const user = await createUser(running);
    const firstParty = await registerClient(running.latch, { redirect_uris: ['http://127.0.0.1:9/cb'], first_party: true });
    const { tokens } = await signIn(await relyingParty(running, firstParty), user, { scope: 'openid profile' });
    for (const claim of ['name', 'given_name', 'family_name', 'nickname', 'website', 'locale', 'phone_number']) {
      const response = await fetch(at('/api/v1/users/me'), { ...json({ [claim]: NUL }, { authorization: `Bearer ${tokens.access_token}` }), method: 'PATCH' });
      const problem = await expectProblem(response);
      expect(problem.errors?.map((error) => error.pointer)).toEqual([`#/${claim}`]);
    }
  });
});

describe('the interaction pages answer it with the error page', () => {
  async function loginPage(): Promise<{ browser: Browser; page: Page }> {
    const browser = new Browser();
    const authorization = await Authorization.start(client);
    return { browser, page: await authorization.open(browser) };
  }

  it('in the sign-in form', async () => {
    const { browser, page } = await loginPage();
    await expectErrorPage(await browser.submit(page, { email: `user${NUL}@example.com`, password: 'whatever it is' }, { button: 'Sign in' }));
  });

  it('in the registration form', async () => {
    const { browser, page: login } = await loginPage();
    const link = /href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string;
    const page = await browser.navigate(new URL(link, running.baseUrl));
    await expectErrorPage(await browser.submit(page, { email: 'new@example.com', password: 'correct horse battery staple', name: NUL }, { button: 'Create account' }));
  });

  it('in the interaction path', async () => {
    const { browser } = await loginPage();
    await expectErrorPage(await browser.navigate(at('/interaction/%00')));
  });
});

describe('oidc-provider endpoints answer invalid_request', () => {
  it.each(['state', 'nonce', 'login_hint', 'client_id'])('/auth with a NUL in %s renders the error page', async (parameter) => {
    const authorization = await Authorization.start(client, { [parameter]: NUL });
    await expectErrorPage(await fetch(authorization.url, { headers: { accept: 'text/html' }, redirect: 'manual' }));
  });

  it.each([
    ['code', { grant_type: 'authorization_code', code: NUL, redirect_uri: 'http://127.0.0.1:9/callback', code_verifier: 'x'.repeat(43) }],
    ['refresh_token', { grant_type: 'refresh_token', refresh_token: NUL }],
  ])('/token with a NUL %s', async (_name, fields) => {
    await expectOAuthError(await fetch(at('/token'), form(fields, { authorization: basic() })));
  });

  it('/token with a NUL client_id', async () => {
    await expectOAuthError(await fetch(at('/token'), form({ grant_type: 'client_credentials', client_id: NUL, client_secret: 'x' })));
  });

  it.each(['/token/introspection', '/token/revocation'])('%s with a NUL token', async (path) => {
    await expectOAuthError(await fetch(at(path), form({ token: NUL }, { authorization: basic() })));
  });

  it.each([NUL, LONE_SURROGATE])('DCR with client_name %j', async (name) => {
    const response = await fetch(at('/reg'), json({ redirect_uris: ['https://rp.example.com/cb'], client_name: name }, { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` }));
    await expectOAuthError(response, 'invalid_client_metadata');
  });

  it('GET /reg/%00', async () => {
    await expectOAuthError(await fetch(at('/reg/%00'), { headers: { authorization: `Bearer ${INITIAL_ACCESS_TOKEN}` } }));
  });

  it('/session/end?client_id=a%00b renders the error page', async () => {
    await expectErrorPage(await fetch(at('/session/end?client_id=a%00b'), { headers: { accept: 'text/html' } }));
  });

  it('logs no stack for any of them', () => {
    expect(running.logs()).not.toMatch(/"level":50/);
  });
});
