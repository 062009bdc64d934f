import { Browser, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';
import { atRedirect, Authorization, PASSWORD, signInForm, testClient, uniqueEmail, type TestClient } from './support.js';

const REGISTRATION_LIMIT = 3;

let running: RunningLatch;
let client: TestClient;

beforeAll(async () => {
  running = await startLatch({ REGISTRATIONS_PER_IP_PER_MINUTE: String(REGISTRATION_LIMIT) });
  client = await testClient(running);
});

afterAll(async () => {
  await running.stop();
});

beforeEach(async () => {
  await query(running.databaseUrl, 'DELETE FROM rate_limits');
});

async function createUser() {
  const email = uniqueEmail();
  await running.latch.accounts.register({ email, password: PASSWORD });
  return { email };
}

async function loginPage(browser = new Browser()): Promise<{ browser: Browser; page: Page; authorization: Authorization }> {
  const authorization = await Authorization.start(client);
  return { browser, page: await authorization.open(browser), authorization };
}

async function registrationPage(browser = new Browser()): Promise<{ browser: Browser; page: Page }> {
  const { page: login } = await loginPage(browser);
  const link = /href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string;
  return { browser, page: await browser.navigate(new URL(link, running.baseUrl)) };
}

const countUsers = async (email: string) => (await query(running.databaseUrl, 'SELECT 1 FROM users WHERE email = $1', [email])).length;
const countRateLimits = async () => (await query(running.databaseUrl, 'SELECT 1 FROM rate_limits')).length;

function expectForbidden(page: Page) {
  expect(page.status).toBe(403);
  expect(page.headers.get('cache-control')).toBe('no-store');
  expect(page.html).toContain('This form could not be verified');
}

describe('CSRF protection', () => {
  it('gives the browser a signed, httpOnly, SameSite=Lax token cookie for /interaction, not Secure over plain http', async () => {
    const authorization = await Authorization.start(client);
    const auth = await fetch(authorization.url, { redirect: 'manual' });
    const cookies = auth.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
    const response = await fetch(new URL(auth.headers.get('location') as string, running.baseUrl), { headers: { cookie: cookies } });

    const set = response.headers.getSetCookie();
    const token = set.find((cookie) => cookie.startsWith('latch.csrf='));
    expect(token).toMatch(/; path=\/interaction; samesite=lax; httponly$/i);
    expect(set.some((cookie) => cookie.startsWith('latch.csrf.sig='))).toBe(true);
    expect(token).not.toMatch(/secure/i);
    await response.text();
  });

  it('refuses a sign-in without the token with 403, and nothing happens', async () => {
    const user = await createUser();
    const { browser, page } = await loginPage();

    expectForbidden(await browser.submit(page, { email: user.email, password: PASSWORD, csrf: '' }, { button: 'Sign in', stopAt: atRedirect }));
    expect(await countRateLimits()).toBe(0);
    const reload = await browser.navigate(page.url);
    expect(reload.html).toMatch(/<input[^>]+name="password"/);
  });

  it('refuses a sign-in with a wrong token, or with a token of another browser', async () => {
    const user = await createUser();
    const { browser, page } = await loginPage();
    const { page: otherPage } = await loginPage();
    const otherToken = /name="csrf" value="([^"]+)"/.exec(otherPage.html)?.[1] as string;

    expectForbidden(await browser.submit(page, { email: user.email, password: PASSWORD, csrf: 'x'.repeat(43) }, { button: 'Sign in', stopAt: atRedirect }));
    expectForbidden(await browser.submit(page, { email: user.email, password: PASSWORD, csrf: otherToken }, { button: 'Sign in', stopAt: atRedirect }));
    expect(await countRateLimits()).toBe(0);
  });

  it('refuses a token cookie that Latch did not sign', async () => {
    const user = await createUser();
    const { browser, page } = await loginPage();
    const forged = 'f'.repeat(43);
    const cookies = ['_interaction', '_interaction.sig'].map((name) => `${name}=${browser.cookie(page.url, name)}`);

    const response = await fetch(new URL(`${page.url.pathname}/login`, running.baseUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: [...cookies, `latch.csrf=${forged}`].join('; '), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: user.email, password: PASSWORD, csrf: forged }),
    });

    expect(response.status).toBe(403);
    await response.text();
  });

  it('refuses a registration without the token, and creates no account', async () => {
    const email = uniqueEmail();
    const { browser, page } = await registrationPage();

    expectForbidden(await browser.submit(page, { email, password: PASSWORD, csrf: '' }, { button: 'Create account' }));
    expect(await countUsers(email)).toBe(0);
  });

  it('refuses consent and cancellation without the token, and the flow still completes afterwards', async () => {
    const user = await createUser();
    const { browser, page: login, authorization } = await loginPage();
    const consent = await signInForm(login, user.email, PASSWORD, browser);

    expectForbidden(await browser.submit(consent, { csrf: '' }, { button: 'Continue', stopAt: atRedirect }));
    expectForbidden(await browser.submit(consent, { csrf: '' }, { button: 'Cancel', stopAt: atRedirect }));
    expect(await query(running.databaseUrl, `SELECT 1 FROM oidc_payloads WHERE model = 'Grant'`)).toHaveLength(0);

    const callback = await browser.submit(consent, {}, { button: 'Continue', stopAt: atRedirect });
    expect((await authorization.redeem(callback.url)).claims()?.email).toBe(user.email);
  });

  it('refuses a body that is not a form, and one that is too large', async () => {
    const { browser, page } = await loginPage();
    const cookie = ['_interaction', '_interaction.sig', 'latch.csrf', 'latch.csrf.sig'].map((name) => `${name}=${browser.cookie(page.url, name)}`).join('; ');
    const token = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] as string;
    const post = (body: string, type: string) => fetch(new URL(`${page.url.pathname}/login`, running.baseUrl), { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': type }, body });

    const json = await post(JSON.stringify({ csrf: token, email: 'a@example.com', password: 'x' }), 'application/json');
    expect(json.status).toBe(403);
    const huge = await post(new URLSearchParams({ csrf: token, email: 'a@example.com', password: 'x'.repeat(20_000) }).toString(), 'application/x-www-form-urlencoded');
    expect(huge.status).toBe(400);
    expect(await huge.text()).toContain('This form could not be read');
    await json.text();
  });
});

describe('registration rate limit', () => {
  it(`refuses more than ${REGISTRATION_LIMIT} registrations a minute from one address, keeping what was typed`, async () => {
    for (let index = 0; index < REGISTRATION_LIMIT; index += 1) {
      const { browser, page } = await registrationPage();
      const next = await browser.submit(page, { email: uniqueEmail(), password: PASSWORD }, { button: 'Create account', stopAt: atRedirect });
      expect(next.html).toContain('would like to:');
    }

    const email = uniqueEmail();
    const { browser, page } = await registrationPage();
    const refused = await browser.submit(page, { name: 'Eve', email, password: PASSWORD }, { button: 'Create account', stopAt: atRedirect });

    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.html).toContain('Too many accounts have been created from your network. Try again in 1 minute.');
    expect(refused.html).toContain(`value="${email}"`);
    expect(refused.html).not.toContain(PASSWORD);
    expect(await countUsers(email)).toBe(0);
  });
});

describe('behind a trusted proxy', () => {
  let proxied: RunningLatch;

  beforeAll(async () => {
    proxied = await startLatch({ TRUST_PROXY: 'true' });
  });

  afterAll(async () => {
    await proxied.stop();
  });

  it('marks the token cookie Secure when the request came over https', async () => {
    const other = await testClient(proxied);
    const authorization = await Authorization.start(other);
    const https = { 'x-forwarded-proto': 'https' };
    const auth = await fetch(authorization.url, { redirect: 'manual', headers: https });
    const cookies = auth.headers.getSetCookie().map((cookie) => cookie.split(';')[0]).join('; ');
    const location = new URL(auth.headers.get('location') as string, proxied.baseUrl);

    const response = await fetch(new URL(location.pathname, proxied.baseUrl), { headers: { ...https, cookie: cookies } });

    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie().find((cookie) => cookie.startsWith('latch.csrf='))).toMatch(/; secure/i);
    await response.text();
  });
});
