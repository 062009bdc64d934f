import { Browser, formOf, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, type TestUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';

// Latch's clock, moved forward to age the sign-in; oidc-provider stamps auth_time from the real one.
let offsetMs = 0;
let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch({}, { now: () => new Date(Date.now() + offsetMs) });
});

afterAll(async () => {
  await running?.stop();
});

afterEach(() => {
  offsetMs = 0;
});

const url = (path: string) => `${running.baseUrl}${path}`;
const SIXTEEN_MINUTES = 16 * 60 * 1000;
const isSignInPage = (page: Page) => page.url.pathname.startsWith('/interaction/') && /<input[^>]+name="password"/.test(page.html);

/** Signs in through the security page: the sign-in comes back to it. */
async function openSecurity(browser: Browser, user: TestUser): Promise<Page> {
  const first = await browser.navigate(url('/account/security'));
  expect(isSignInPage(first)).toBe(true);
  const page = await browser.submit(first, { email: user.email, password: user.password }, { button: 'Sign in' });
  expect(page.url.pathname).toBe('/account/security');
  expect(page.html).toContain('<h1>Security</h1>');
  return page;
}

const factorsOf = (userId: string) => query(running.databaseUrl, 'SELECT id FROM user_factors WHERE user_id = $1', [userId]);

describe('changes to how an account signs in need a recent sign-in', () => {
  it('asks a session signed in over 15 minutes ago for the password again before showing the security page, then comes back to it', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    await openSecurity(browser, user);

    offsetMs = SIXTEEN_MINUTES;
    const again = await browser.navigate(url('/account/security'));
    // Despite the live Latch session: max_age=0 is a whole new sign-in.
    expect(isSignInPage(again)).toBe(true);
    offsetMs = 0;
    const back = await browser.submit(again, { email: user.email, password: user.password }, { button: 'Sign in' });
    expect(back.url.pathname).toBe('/account/security');
    expect(back.html).toContain('<h1>Security</h1>');
    // The account page itself asks nothing more of an older sign-in.
    offsetMs = SIXTEEN_MINUTES;
    expect((await browser.navigate(url('/account'))).html).toContain('<h1>Your account</h1>');
  });

  it('refuses a factor change posted from a stale sign-in, changes nothing, and leads to a new sign-in that returns to the page', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    const page = await openSecurity(browser, user);
    const { csrf } = formOf(page, 'Add an authenticator app').fields;

    offsetMs = SIXTEEN_MINUTES;
    const refused = await browser.navigate(url('/account/security/totp'), { method: 'POST', body: new URLSearchParams({ csrf: csrf ?? '' }) });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('Confirm it is you first');
    expect(refused.html).toContain('Nothing was changed');
    expect(await factorsOf(user.id)).toEqual([]);

    const link = /href="(\/account\/sign-in-again\?[^"]+)"/.exec(refused.html)?.[1]?.replaceAll('&amp;', '&');
    expect(link).toBe('/account/sign-in-again?then=%2Faccount%2Fsecurity');
    const signInPage = await browser.navigate(url(link ?? ''));
    expect(isSignInPage(signInPage)).toBe(true);
    offsetMs = 0;
    const back = await browser.submit(signInPage, { email: user.email, password: user.password }, { button: 'Sign in' });
    expect(back.url.pathname).toBe('/account/security');
    // Fresh again: the same post now starts the set-up.
    const fresh = formOf(back, 'Add an authenticator app');
    const setup = await browser.navigate(url('/account/security/totp'), { method: 'POST', body: new URLSearchParams({ csrf: fresh.fields.csrf ?? '' }) });
    expect(setup.status).toBe(200);
    expect(setup.html).toContain('Setup key');
  });

  it('refuses an email change from a stale sign-in: nothing is requested, nothing mailed', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    let page = await browser.navigate(url('/account'));
    page = await browser.submit(page, { email: user.email, password: user.password }, { button: 'Sign in' });
    expect(page.html).toContain('<h1>Your account</h1>');
    const { csrf } = formOf(page, 'Save profile').fields;

    offsetMs = SIXTEEN_MINUTES;
    const refused = await browser.navigate(url('/account/email'), { method: 'POST', body: new URLSearchParams({ csrf: csrf ?? '', email: `moved-${user.email}` }) });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('/account/sign-in-again?then=%2Faccount');
    expect(await query(running.databaseUrl, "SELECT 1 FROM account_tokens WHERE user_id = $1 AND purpose = 'email_change'", [user.id])).toEqual([]);
  });

  it('comes back only to the account pages, whatever the link says', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    const signInPage = await browser.navigate(url(`/account/sign-in-again?${new URLSearchParams({ then: 'https://evil.example.com/' }).toString()}`));
    expect(isSignInPage(signInPage)).toBe(true);
    const back = await browser.submit(signInPage, { email: user.email, password: user.password }, { button: 'Sign in' });
    expect(back.url.href).toBe(url('/account'));
  });
});
