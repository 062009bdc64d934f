import * as oidc from 'openid-client';
import { Browser, formOf, type Page } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';

const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_ON_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';

let running: RunningLatch;
/** A third-party app: its users consent, and it asks for offline_access. */
let thirdParty: oidc.Configuration;
/** A first-party app: no consent, refresh tokens that live with the session. */
let firstParty: oidc.Configuration;

beforeAll(async () => {
  running = await startLatch();
  thirdParty = await relyingParty(running, await registerClient(running.latch, { client_name: 'Photo Printer', redirect_uris: ['https://photos.example.com/callback'] }));
  firstParty = await relyingParty(running, await registerClient(running.latch, { client_name: 'Our Dashboard', redirect_uris: ['https://dashboard.example.com/callback'], first_party: true }));
});

afterAll(async () => {
  await running?.stop();
});

const accountUrl = (path = '') => `${running.baseUrl}/account${path}`;

/** Opens /account as a person would: through the sign-in page when the browser is not signed in yet. */
async function openAccount(browser: Browser, user: TestUser): Promise<Page> {
  let page = await browser.navigate(accountUrl());
  if (/<input[^>]+name="password"/.test(page.html)) page = await browser.submit(page, { email: user.email, password: user.password }, { button: 'Sign in' });
  expect(page.status).toBe(200);
  expect(page.url.href).toMatch(new RegExp(`^${accountUrl()}(\\?|$)`));
  expect(page.html).toContain('<h1>Your account</h1>');
  return page;
}

/** Posts one of the page's forms with the page's own anti-forgery token and the given fields. */
function post(browser: Browser, page: Page, path: string, fields: Record<string, string>): Promise<Page> {
  const { csrf } = formOf(page, 'Save profile').fields;
  return browser.navigate(accountUrl(path), { method: 'POST', body: new URLSearchParams({ csrf: csrf ?? '', ...fields }) });
}

/** The session uid behind a browser's Latch cookie, as the store holds it. */
async function sessionUidOf(browser: Browser): Promise<string> {
  const cookie = browser.cookie(running.baseUrl, '_session');
  const [row] = await query<{ uid: string }>(running.databaseUrl, "SELECT uid FROM oidc_payloads WHERE model = 'Session' AND id = $1", [cookie]);
  if (!row) throw new Error('the browser has no session');
  return row.uid;
}

const signedOut = async (browser: Browser) => /<input[^>]+name="password"/.test((await browser.navigate(accountUrl())).html);

describe('the account page', () => {
  it('sends a signed-out browser through the sign-in page, then shows the account, uncached and under a strict CSP', async () => {
    const user = await createUser(running, { name: 'Ada Lovelace' });
    const browser = new Browser();

    const first = await browser.navigate(accountUrl());
    expect(first.url.pathname).toMatch(/^\/interaction\//);
    expect(first.html).toContain('Your Latch account');
    const page = await openAccount(browser, user);

    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; style-src 'nonce-[^']+'; frame-ancestors 'none'/);
    expect(page.html).toContain(user.email);
    expect(page.html).toContain('not verified');
    expect(page.html).toContain('action="/account/email"');
    expect(page.html).toContain('value="Ada Lovelace"');
    // Latch's own account client is no app the user connected, and the code its sign-in returned is not left lying about.
    expect(page.html).toContain('No app has access to your account.');
    const codes = await query(running.databaseUrl, "SELECT 1 FROM oidc_payloads WHERE model = 'AuthorizationCode' AND payload->>'accountId' = $1", [user.id]);
    expect(codes).toEqual([]);
  });

  it('is shown at once to a browser already signed in to Latch by an app', async () => {
    const user = await createUser(running);
    const { browser } = await signIn(firstParty, user, { scope: 'openid email profile' });

    const page = await browser.navigate(accountUrl());

    expect(page.status).toBe(200);
    expect(page.url.href).toBe(accountUrl());
    expect(page.html).toContain('Our Dashboard');
  });

  it('lists a connected app with its permissions in words; removing it makes the app\'s refresh fail with invalid_grant', async () => {
    const user = await createUser(running);
    const { tokens, browser } = await signIn(thirdParty, user, { params: { prompt: 'consent' } });
    expect(tokens.refresh_token).toEqual(expect.any(String));

    const page = await openAccount(browser, user);
    expect(page.html).toContain('<strong>Photo Printer</strong>');
    for (const words of ['Sign you in', 'See your email address', 'See your name and profile', 'Keep you signed in']) expect(page.html).toContain(words);

    const after = await browser.submit(page, {}, { button: 'Remove access' });

    expect(after.url.search).toBe('?done=app');
    expect(after.html).toContain('access has been removed');
    expect(after.html).not.toContain('<strong>Photo Printer</strong>');
    await expect(oidc.refreshTokenGrant(thirdParty, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(running.logs()).toMatch(new RegExp(`"event":"grant.revoked","userId":"${user.id}","clientId":"[^"]+","grantId":"[^"]+","revoked":\\d+,"via":"account"`));
  });

  it('lists each session with its device, address and last use, and signs another one out: its app refresh dies with it', async () => {
    const user = await createUser(running);
    // Signed in to the dashboard on a phone, without offline_access: its refresh token lives with that session.
    const phone = await signIn(firstParty, user, { scope: 'openid email profile', browser: new Browser(SAFARI_ON_IPHONE) });
    const laptop = new Browser(FIREFOX_ON_WINDOWS);
    const page = await openAccount(laptop, user);

    expect(page.html).toContain('Firefox on Windows');
    expect(page.html).toContain('this browser');
    expect(page.html).toContain('Safari on iOS');
    expect(page.html).toMatch(/127\.0\.0\.1 · last seen \d{1,2} \w{3} \d{4}, \d{2}:\d{2} UTC/);
    expect(page.html).toContain('Signed in to: Our Dashboard');

    const after = await post(laptop, page, '/sessions/end', { session: await sessionUidOf(phone.browser) });

    expect(after.url.search).toBe('?done=session');
    expect(after.html).not.toContain('Safari on iOS');
    expect(await signedOut(phone.browser)).toBe(true);
    await expect(oidc.refreshTokenGrant(firstParty, phone.tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(await signedOut(laptop)).toBe(false);
    expect(running.logs()).toMatch(new RegExp(`"event":"session.ended","userId":"${user.id}"`));
  });

  it('signs every other session out at once, and signing this browser out ends its Latch session', async () => {
    const user = await createUser(running);
    const others = [await signIn(firstParty, user, { scope: 'openid' }), await signIn(firstParty, user, { scope: 'openid' })];
    const browser = new Browser();
    const page = await openAccount(browser, user);

    const after = await browser.submit(page, {}, { button: 'Sign out all other sessions' });

    expect(after.html).toContain('Every other session has been signed out.');
    for (const other of others) expect(await signedOut(other.browser)).toBe(true);
    const own = await browser.navigate(accountUrl());
    expect(own.html).not.toContain('Sign out all other sessions');

    await post(browser, own, '/sessions/end', { session: await sessionUidOf(browser) });
    expect(await signedOut(browser)).toBe(true);
  });

  it('refuses a form without the page\'s anti-forgery token, and changes nothing', async () => {
    const user = await createUser(running);
    const { tokens, browser } = await signIn(thirdParty, user, { params: { prompt: 'consent' } });
    await openAccount(browser, user);
    const clientId = thirdParty.clientMetadata().client_id;

    for (const csrf of [undefined, 'forged-token-forged-token-forged-token-0123']) {
      const refused = await browser.navigate(accountUrl('/apps/revoke'), { method: 'POST', body: new URLSearchParams({ client: clientId, ...(csrf ? { csrf } : {}) }) });
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('This form could not be verified');
      expect(refused.html).toContain('href="/account"');
    }

    await expect(oidc.refreshTokenGrant(thirdParty, tokens.refresh_token as string)).resolves.toMatchObject({ access_token: expect.any(String) });
  });

  it("answers another user's app or session as gone (404), and leaves it alone", async () => {
    const victim = await createUser(running);
    const { tokens, browser: victimBrowser } = await signIn(thirdParty, victim, { params: { prompt: 'consent' } });
    const attacker = await createUser(running);
    const browser = new Browser();
    const page = await openAccount(browser, attacker);

    const app = await post(browser, page, '/apps/revoke', { client: thirdParty.clientMetadata().client_id });
    const session = await post(browser, page, '/sessions/end', { session: await sessionUidOf(victimBrowser) });

    for (const refused of [app, session]) {
      expect(refused.status).toBe(404);
      expect(refused.html).toContain('Already gone');
    }
    expect(await signedOut(victimBrowser)).toBe(false);
    await expect(oidc.refreshTokenGrant(thirdParty, tokens.refresh_token as string)).resolves.toMatchObject({ access_token: expect.any(String) });
  });

  it('saves the profile through the same rules as the REST API, and shows what was wrong', async () => {
    const user = await createUser(running, { name: 'Ada' });
    const browser = new Browser();
    const page = await openAccount(browser, user);
    const profile = formOf(page, 'Save profile').fields;

    const refused = await browser.submit(page, { website: 'ftp://ada.example.com', givenName: 'Augusta' }, { button: 'Save profile' });
    expect(refused.status).toBe(400);
    expect(refused.html).toContain('Enter an http or https address.');
    expect(refused.html).toContain('value="Augusta"');

    const saved = await browser.submit(refused, { ...profile, givenName: 'Augusta', name: '', website: 'https://ada.example.com' }, { button: 'Save profile' });
    expect(saved.url.search).toBe('?done=profile');
    const [row] = await query<{ name: string | null; given_name: string; website: string }>(running.databaseUrl, 'SELECT name, given_name, website FROM profiles WHERE user_id = $1', [user.id]);
    expect(row).toEqual({ name: null, given_name: 'Augusta', website: 'https://ada.example.com' });
  });

  it('changes the password with the current one, signing out every other session', async () => {
    const user = await createUser(running);
    const elsewhere = await signIn(firstParty, user, { scope: 'openid' });
    const browser = new Browser();
    const page = await openAccount(browser, user);

    const wrong = await browser.submit(page, { currentPassword: 'not the password', newPassword: 'short' }, { button: 'Change password' });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('The current password is not correct.');
    expect(wrong.html).toMatch(/id="newPassword-error"/);
    expect(await signedOut(elsewhere.browser)).toBe(false);

    const changed = await browser.submit(wrong, { currentPassword: user.password, newPassword: 'an entirely new passphrase' }, { button: 'Change password' });
    expect(changed.url.search).toBe('?done=password');
    expect(await signedOut(elsewhere.browser)).toBe(true);
    expect(await signedOut(browser)).toBe(false);
    await openAccount(new Browser(), { ...user, password: 'an entirely new passphrase' });
  });

  it('answers a form posted by a signed-out browser, and a callback it did not start, with a page that leads to sign-in', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    const page = await openAccount(browser, user);
    await post(browser, page, '/sessions/end', { session: await sessionUidOf(browser) });

    const posted = await post(browser, page, '/sessions/end-others', {});
    expect(posted.status).toBe(401);
    expect(posted.html).toContain('You are signed out');

    const callback = await new Browser().navigate(accountUrl('/callback?code=forged&state=forged'));
    expect(callback.status).toBe(400);
    expect(callback.html).toContain('href="/account"');
  });
});
