import { Browser, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';
import { atRedirect, Authorization, PASSWORD, REDIRECT_URI, signInForm, testClient, uniqueEmail, type TestClient } from './support.js';

let running: RunningLatch;
let client: TestClient;
/** Every email and password typed in this file, for the log check at the end. */
const typed = new Set<string>();

beforeAll(async () => {
  running = await startLatch();
  client = await testClient(running);
});

afterAll(async () => {
  await running.stop();
});

async function createUser(email = uniqueEmail(), password = PASSWORD) {
  typed.add(email);
  typed.add(password);
  const user = await running.latch.accounts.register({ email, password, name: 'Ada Lovelace' });
  return { id: user.id, email, password };
}

function expectPageHeaders(page: Page) {
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('cache-control')).toBe('no-store');
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toMatch(/default-src 'none'/);
  expect(csp).toMatch(/style-src 'nonce-[A-Za-z0-9+/=]+'/);
  expect(csp).toMatch(/frame-ancestors 'none'/);
  expect(csp).toMatch(/base-uri 'none'/);
  expect(csp).not.toMatch(/form-action/);
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(page.html).toContain(`<style nonce="${nonce}">`);
  // The only scripts are Latch's own passkey files, by address, digest and this response's nonce: nothing inline.
  const scripts = page.html.match(/<script\b[^>]*>/gi) ?? [];
  for (const script of scripts) expect(script).toMatch(new RegExp(`^<script src="/assets/[a-z-]+\\.[0-9a-f]{16}\\.js" integrity="sha384-[A-Za-z0-9+/=]+" nonce="${(nonce ?? '').replace(/[+/=]/g, '\\$&')}">$`));
  if (scripts.length > 0) expect(csp).toContain(`script-src 'nonce-${nonce}'`);
  else expect(csp).not.toMatch(/script-src/);
}

const label = (page: Page, id: string, text: string) => expect(page.html).toMatch(new RegExp(`<label for="${id}">${text}</label>\\s*<input id="${id}"`));
const button = (page: Page, text: string) => expect(page.html).toMatch(new RegExp(`<button[^>]*>${text}</button>`));

/** Signs in at the login page and gives consent on the consent page (if it is shown); returns the callback. */
async function signInAndConsent(browser: Browser, authorization: Authorization, user: { email: string; password: string }): Promise<URL> {
  let page = await authorization.open(browser);
  if (/<input[^>]+name="password"/.test(page.html)) page = await signInForm(page, user.email, user.password, browser);
  if (!atRedirect(page.url)) page = await browser.submit(page, {}, { button: 'Continue', stopAt: atRedirect });
  expect(page.url.href.startsWith(REDIRECT_URI)).toBe(true);
  return page.url;
}

describe('sign-in and consent', () => {
  it('signs in, asks consent in words, and returns a code redeemable for tokens', async () => {
    const user = await createUser();
    const browser = new Browser();
    const authorization = await Authorization.start(client, { scope: 'openid profile email phone' });

    const login = await authorization.open(browser);
    expect(login.status).toBe(200);
    expect(login.url.pathname).toMatch(/^\/interaction\/[^/]+$/);
    expectPageHeaders(login);
    label(login, 'email', 'Email');
    label(login, 'password', 'Password');
    button(login, 'Sign in');
    button(login, 'Cancel');
    expect(login.html).toMatch(/<a href="\/interaction\/[^/"]+\/register">Create an account<\/a>/);
    expect(login.html).toContain('Test App');

    const consent = await signInForm(login, user.email, user.password, browser);
    expect(consent.status).toBe(200);
    expectPageHeaders(consent);
    button(consent, 'Continue');
    button(consent, 'Cancel');
    expect(consent.html).toContain('<strong>Test App</strong> would like to:');
    for (const words of ['Sign you in', 'See your name and profile', 'See your email address', 'See your phone number']) {
      expect(consent.html).toContain(`<li>${words}</li>`);
    }
    expect(consent.html).toContain(`Your Latch account (${running.baseUrl}/api/v1)`);

    const callback = await browser.submit(consent, {}, { button: 'Continue', stopAt: atRedirect });
    expect(callback.url.searchParams.get('code')).toEqual(expect.any(String));
    const tokens = await authorization.redeem(callback.url);
    expect(tokens.claims()).toMatchObject({ sub: user.id, email: user.email, name: 'Ada Lovelace' });
    expect(tokens.access_token).toEqual(expect.any(String));
  });

  it('remembers consent: the second authorization goes straight back to the client', async () => {
    const user = await createUser();
    const browser = new Browser();
    await signInAndConsent(browser, await Authorization.start(client), user);

    const second = await Authorization.start(client);
    const page = await second.open(browser);

    expect(atRedirect(page.url)).toBe(true);
    expect((await second.redeem(page.url)).claims()?.sub).toBe(user.id);
  });

  it('shows no consent page to a first-party client, even when it sends prompt=consent', async () => {
    const user = await createUser();
    const firstParty = await testClient(running, { client_name: 'Latch Console', first_party: true });
    const browser = new Browser();

    const first = await Authorization.start(firstParty);
    const afterLogin = await signInForm(await first.open(browser), user.email, user.password, browser);
    expect(atRedirect(afterLogin.url)).toBe(true);
    expect((await first.redeem(afterLogin.url)).claims()?.sub).toBe(user.id);

    const explicit = await Authorization.start(firstParty, { prompt: 'consent' });
    const page = await explicit.open(browser);
    expect(atRedirect(page.url)).toBe(true);
    expect((await explicit.redeem(page.url)).claims()?.sub).toBe(user.id);
  });

  it('answers access_denied at the redirect_uri when the user cancels consent, and records no grant', async () => {
    const user = await createUser();
    const browser = new Browser();
    const authorization = await Authorization.start(client);
    const consent = await signInForm(await authorization.open(browser), user.email, user.password, browser);

    const page = await browser.submit(consent, {}, { button: 'Cancel', stopAt: atRedirect });

    expect(page.url.searchParams.get('error')).toBe('access_denied');
    expect(page.url.searchParams.get('state')).toBe(authorization.state);
    expect(page.url.searchParams.get('code')).toBeNull();
    const grants = await query(running.databaseUrl, `SELECT 1 FROM oidc_payloads WHERE model = 'Grant' AND account_id = $1`, [user.id]);
    expect(grants).toHaveLength(0);
  });

  it('answers access_denied when the user cancels at the sign-in page', async () => {
    const authorization = await Authorization.start(client);
    const browser = new Browser();
    const page = await browser.submit(await authorization.open(browser), {}, { button: 'Cancel', stopAt: atRedirect });

    expect(page.url.searchParams.get('error')).toBe('access_denied');
    expect(page.url.searchParams.get('state')).toBe(authorization.state);
  });

  it('pre-fills the email from login_hint, escaped', async () => {
    const hint = 'ada"<b>@example.com';
    const page = await (await Authorization.start(client, { login_hint: hint })).open(new Browser());

    expect(page.html).toContain('value="ada&#34;&lt;b&gt;@example.com"');
    expect(page.html).not.toContain('<b>');
  });

  it('asks for the password again with prompt=login, and the login page then works', async () => {
    const user = await createUser();
    const browser = new Browser();
    await signInAndConsent(browser, await Authorization.start(client), user);

    const again = await Authorization.start(client, { prompt: 'login' });
    const login = await again.open(browser);
    expect(login.html).toMatch(/<input[^>]+name="password"/);

    const page = await signInForm(login, user.email, user.password, browser);
    expect(atRedirect(page.url)).toBe(true);
    expect((await again.redeem(page.url)).claims()?.sub).toBe(user.id);
  });

  it('asks for the password again when max_age has passed', async () => {
    const user = await createUser();
    const browser = new Browser();
    await signInAndConsent(browser, await Authorization.start(client), user);
    // Sessions count whole seconds: wait until one has surely passed since the sign-in.
    await new Promise((resolve) => setTimeout(resolve, 2100));

    const again = await Authorization.start(client, { max_age: '1' });
    const login = await again.open(browser);
    expect(login.html).toMatch(/<input[^>]+name="password"/);
    const page = await signInForm(login, user.email, user.password, browser);
    expect(atRedirect(page.url)).toBe(true);
  });

  it('never renders a page for prompt=none: login_required without a session', async () => {
    const authorization = await Authorization.start(client, { prompt: 'none' });
    const page = await authorization.open(new Browser());

    expect(atRedirect(page.url)).toBe(true);
    expect(page.url.searchParams.get('error')).toBe('login_required');
    expect(page.url.searchParams.get('state')).toBe(authorization.state);
  });

  it('never renders a page for prompt=none: consent_required when signed in without consent', async () => {
    const user = await createUser();
    const browser = new Browser();
    const other = await testClient(running, { client_name: 'Other App' });
    await signInAndConsent(browser, await Authorization.start(client), user);

    const page = await (await Authorization.start(other, { prompt: 'none' })).open(browser);

    expect(atRedirect(page.url)).toBe(true);
    expect(page.url.searchParams.get('error')).toBe('consent_required');
  });
});

describe('registration', () => {
  it('is linked from the sign-in page and continues the same authorization, signed in as the new user', async () => {
    const browser = new Browser();
    const authorization = await Authorization.start(client);
    const login = await authorization.open(browser);
    const link = /href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string;

    const form = await browser.navigate(new URL(link, running.baseUrl));
    expect(form.status).toBe(200);
    expectPageHeaders(form);
    label(form, 'name', 'Name');
    label(form, 'email', 'Email');
    label(form, 'password', 'Password');
    button(form, 'Create account');

    const email = uniqueEmail();
    typed.add(email);
    const consent = await browser.submit(form, { name: 'Grace Hopper', email, password: PASSWORD }, { button: 'Create account', stopAt: atRedirect });
    expect(consent.html).toContain('would like to:');
    const callback = await browser.submit(consent, {}, { button: 'Continue', stopAt: atRedirect });

    const claims = (await authorization.redeem(callback.url)).claims();
    expect(claims).toMatchObject({ email, name: 'Grace Hopper' });
  });

  it('shows each problem next to its field and keeps what was typed, except the password', async () => {
    const taken = await createUser();
    const browser = new Browser();
    const login = await (await Authorization.start(client)).open(browser);
    const form = await browser.navigate(new URL(/href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string, running.baseUrl));
    typed.add('short');

    const invalid = await browser.submit(form, { name: 'Grace <Hopper>', email: 'not-an-email', password: 'short' }, { button: 'Create account' });
    expect(invalid.status).toBe(400);
    expect(invalid.html).toMatch(/<input id="email"[^>]*value="not-an-email"[^>]*aria-invalid="true" aria-describedby="email-error">\s*<p class="field-error" id="email-error">Enter a valid email address.<\/p>/);
    expect(invalid.html).toMatch(/<input id="password"[^>]*aria-invalid="true"[^>]*>\s*<p class="field-error" id="password-error">Use at least 8 characters.<\/p>/);
    expect(invalid.html).toContain('value="Grace &lt;Hopper&gt;"');
    expect(invalid.html).not.toContain('value="short"');

    const conflict = await browser.submit(invalid, { name: 'Grace', email: taken.email.toUpperCase(), password: PASSWORD }, { button: 'Create account' });
    expect(conflict.status).toBe(409);
    expect(conflict.html).toMatch(/id="email-error">An account with this email address already exists/);
    expect(conflict.html).not.toContain(PASSWORD);
  });

  it('lets a few dozen people register from one address in a minute with the default limit', async () => {
    for (let index = 0; index < 30; index += 1) {
      const browser = new Browser();
      const login = await (await Authorization.start(client)).open(browser);
      const form = await browser.navigate(new URL(/href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string, running.baseUrl));
      const email = uniqueEmail();
      typed.add(email);
      const next = await browser.submit(form, { email, password: PASSWORD }, { button: 'Create account', stopAt: atRedirect });
      expect(next.status).toBe(200);
      expect(next.html).toContain('would like to:');
    }
  });
});

describe('interaction pages that cannot continue', () => {
  it('answers an unknown interaction with a friendly 400 page', async () => {
    const page = await new Browser().navigate(`${running.baseUrl}/interaction/no-such-interaction`);

    expect(page.status).toBe(400);
    expectPageHeaders(page);
    expect(page.html).toContain('Go back to the application and start signing in again.');
  });

  it('answers an expired interaction with the same page, and its form posts do nothing', async () => {
    const user = await createUser();
    const browser = new Browser();
    const login = await (await Authorization.start(client)).open(browser);
    await query(running.databaseUrl, `DELETE FROM oidc_payloads WHERE model = 'Interaction'`);

    const reload = await browser.navigate(login.url);
    expect(reload.status).toBe(400);
    expect(reload.html).toContain('start signing in again');

    const post = await signInForm(login, user.email, user.password, browser);
    expect(post.status).toBe(400);
    expect(post.html).toContain('start signing in again');
  });

  it('shows a friendly error page, without a stack, for an unknown client_id', async () => {
    const url = new URL('/auth', running.baseUrl);
    url.search = new URLSearchParams({ client_id: 'no-such-client', response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI }).toString();

    const page = await new Browser().navigate(url);

    expect(page.status).toBe(400);
    expectPageHeaders(page);
    expect(page.html).toContain('<h1>Unknown application</h1>');
    expect(page.html).toContain('<code>invalid_client</code>');
    expect(page.html).not.toMatch(/\bat [^\n]+:\d+:\d+/);
    expect(page.html).not.toMatch(/node_modules|Error:/);
  });

  it('escapes what the error page shows', async () => {
    const url = new URL('/auth', running.baseUrl);
    url.search = new URLSearchParams({ client_id: client.metadata.client_id, response_type: 'code', scope: 'openid', redirect_uri: 'http://evil.example/<script>' }).toString();

    const page = await new Browser().navigate(url);

    expect(page.status).toBe(400);
    expect(page.html).toContain('<h1>Unexpected return address</h1>');
    expect(page.html).not.toMatch(/<script/i);
    expect(page.url.host).toBe(new URL(running.baseUrl).host);
  });
});

describe('signing out', () => {
  it('asks for confirmation, then ends the session and shows the signed-out page', async () => {
    const user = await createUser();
    const browser = new Browser();
    await signInAndConsent(browser, await Authorization.start(client), user);

    const confirm = await browser.navigate(`${running.baseUrl}/session/end?client_id=${client.metadata.client_id}`);
    expect(confirm.status).toBe(200);
    expectPageHeaders(confirm);
    expect(confirm.html).toContain('<form id="op.logoutForm"');
    expect(confirm.html).toMatch(/<button type="submit" form="op.logoutForm" name="logout" value="yes"[^>]*>Sign out<\/button>/);
    button(confirm, 'Stay signed in');

    const signedOut = await browser.submit(confirm, {}, { button: 'Sign out' });
    expect(signedOut.status).toBe(200);
    expectPageHeaders(signedOut);
    expect(signedOut.html).toContain('<h1>You have signed out</h1>');
    expect(signedOut.html).toContain('You are no longer signed in to Latch.');

    const next = await (await Authorization.start(client, { prompt: 'none' })).open(browser);
    expect(next.url.searchParams.get('error')).toBe('login_required');
  });

  it('with "Stay signed in", signs out of that client only and keeps the Latch session', async () => {
    const user = await createUser();
    const browser = new Browser();
    const other = await testClient(running, { client_name: 'Other App' });
    await signInAndConsent(browser, await Authorization.start(client), user);
    await signInAndConsent(browser, await Authorization.start(other), user);

    const confirm = await browser.navigate(`${running.baseUrl}/session/end?client_id=${client.metadata.client_id}`);
    const page = await browser.submit(confirm, {}, { button: 'Stay signed in' });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>You have signed out of Test App</h1>');
    expect(page.html).toContain('You are still signed in to Latch');

    const stillSignedIn = await (await Authorization.start(other, { prompt: 'none' })).open(browser);
    expect(stillSignedIn.url.searchParams.get('code')).toEqual(expect.any(String));
  });
});

describe('logs', () => {
  it('never contain a typed password or email', () => {
    const logs = running.logs();
    expect(logs).toContain('interaction.signed_in');
    for (const value of typed) expect(logs).not.toContain(value);
  });
});
