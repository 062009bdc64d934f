import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { Browser, formOf, type Page } from '../support/browser.js';
import { atRedirect, Authorization, PASSWORD, signInForm, testClient, uniqueEmail, type TestClient } from '../interactions/support.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { SoftwareAuthenticator } from '../support/software-authenticator.js';
import { query } from '../support/sql.js';

const ACCOUNT_LIMIT = 3;

let running: RunningLatch;
let client: TestClient;

beforeAll(async () => {
  running = await startLatch({ SIGNIN_MAX_FAILURES_PER_ACCOUNT: String(ACCOUNT_LIMIT) });
  client = await testClient(running, { first_party: true });
});

afterAll(async () => {
  await running?.stop();
});

// Every refusal below comes from 127.0.0.1: no test may inherit another's counters.
beforeEach(async () => {
  await query(running.databaseUrl, 'DELETE FROM rate_limits');
});

const url = (path: string) => new URL(path, running.baseUrl);

async function createUser() {
  const email = uniqueEmail();
  const user = await running.latch.accounts.register({ email, password: PASSWORD });
  return { id: user.id, email };
}

/** Posts a ceremony form's options request with the form's own token, as assets/passkeys.js does. */
async function optionsOf<T>(browser: Browser, page: Page, formAction: 'register' | 'sign-in' | 'second-factor'): Promise<{ status: number; body: T }> {
  const form = formOf(page, formAction === 'register' ? 'Add a passkey' : formAction === 'second-factor' ? 'Use a passkey' : 'Sign in with a passkey');
  const marker = { register: 'data-passkey-register', 'sign-in': 'data-passkey-sign-in', 'second-factor': 'data-passkey-second-factor' }[formAction];
  const optionsPath = new RegExp(`<form [^>]*${marker} data-options="([^"]+)"`).exec(page.html)?.[1];
  if (!optionsPath) throw new Error(`no ${marker} form with its options address on ${page.url.href}`);
  const answer = await browser.navigate(new URL(optionsPath, running.baseUrl), { method: 'POST', body: new URLSearchParams({ csrf: form.fields.csrf ?? '' }) });
  return { status: answer.status, body: JSON.parse(answer.html) as T };
}

/** Signs in with the password and opens the security page, where passkeys are. */
async function openSecurity(browser: Browser, email: string): Promise<Page> {
  let page = await browser.navigate(url('/account/security'));
  // The sign-in comes back to the security page.
  if (/<input[^>]+name="password"/.test(page.html)) page = await browser.submit(page, { email, password: PASSWORD }, { button: 'Sign in' });
  expect(page.url.pathname).toBe('/account/security');
  return page;
}

/** Registers a passkey of `authenticator` on the account page; returns the page after. */
async function registerPasskey(browser: Browser, page: Page, authenticator: SoftwareAuthenticator, name: string): Promise<Page> {
  const { status, body } = await optionsOf<PublicKeyCredentialCreationOptionsJSON>(browser, page, 'register');
  expect(status).toBe(200);
  const response = authenticator.create(body, { origin: running.baseUrl });
  return browser.submit(page, { response: JSON.stringify(response), name }, { button: 'Add a passkey' });
}

/** A user with one registered passkey, and the browser (signed in) that registered it. */
async function userWithPasskey(authenticator = new SoftwareAuthenticator()) {
  const user = await createUser();
  const browser = new Browser();
  const after = await registerPasskey(browser, await openSecurity(browser, user.email), authenticator, 'Laptop');
  expect(after.url.search).toBe('?done=passkey_added');
  return { ...user, authenticator, browser };
}

/** A fresh authorization at its sign-in page. */
async function signInPage() {
  const browser = new Browser();
  const authorization = await Authorization.start(client);
  const page = await authorization.open(browser);
  expect(page.html).toContain('<h1>Sign in</h1>');
  return { browser, authorization, page };
}

/** Posts an assertion to the sign-in page's passkey form. */
function postAssertion(browser: Browser, page: Page, response: AuthenticationResponseJSON | string): Promise<Page> {
  return browser.submit(page, { response: typeof response === 'string' ? response : JSON.stringify(response) }, { button: 'Sign in with a passkey', stopAt: atRedirect });
}

/** What a password sign-in leads to: the second step, or the client's redirect. */
async function atSecondStepOf(user: { email: string }): Promise<Page> {
  const { browser, page } = await signInPage();
  return signInForm(page, user.email, PASSWORD, browser);
}

const REFUSED = 'That passkey could not sign you in. Try again, or sign in with your password.';

describe('registering passkeys on the account page', () => {
  it('asks for a discoverable, user-verified credential of the issuer host, keeps it with its name, and audits it', async () => {
    const user = await createUser();
    const browser = new Browser();
    const page = await openSecurity(browser, user.email);
    expect(page.html).toContain('data-passkey-register');

    const { body: options } = await optionsOf<PublicKeyCredentialCreationOptionsJSON>(browser, page, 'register');
    expect(options.rp).toEqual({ id: '127.0.0.1', name: 'Latch' });
    expect(options.user.name).toBe(user.email);
    expect(options.authenticatorSelection).toMatchObject({ residentKey: 'required', requireResidentKey: true, userVerification: 'required' });
    expect(options.excludeCredentials).toEqual([]);

    const authenticator = new SoftwareAuthenticator();
    const response = authenticator.create(options, { origin: running.baseUrl });
    const after = await browser.submit(page, { response: JSON.stringify(response), name: 'Work laptop' }, { button: 'Add a passkey' });

    expect(after.url.search).toBe('?done=passkey_added');
    expect(after.html).toContain('<strong>Work laptop</strong>');
    expect(after.html).toContain('on one device');
    const rows = await query<{ credential_id: string; device_type: string; backed_up: boolean }>(running.databaseUrl, 'SELECT credential_id, device_type, backed_up FROM passkeys WHERE user_id = $1', [user.id]);
    expect(rows).toEqual([{ credential_id: response.id, device_type: 'singleDevice', backed_up: false }]);
    const events = await running.latch.audit.list({ subjectId: user.id, event: 'account.passkey_added', limit: 5 });
    expect(events).toHaveLength(1);

    // A second passkey: the first is excluded, so the same authenticator is not registered twice.
    const { body: second } = await optionsOf<PublicKeyCredentialCreationOptionsJSON>(browser, after, 'register');
    expect(second.excludeCredentials).toEqual([expect.objectContaining({ id: response.id })]);
  });

  it('refuses a replayed registration response and one for another origin, storing nothing', async () => {
    const user = await createUser();
    const browser = new Browser();
    const page = await openSecurity(browser, user.email);
    const authenticator = new SoftwareAuthenticator();

    const { body: options } = await optionsOf<PublicKeyCredentialCreationOptionsJSON>(browser, page, 'register');
    const phished = await browser.submit(page, { response: JSON.stringify(authenticator.create(options, { origin: 'https://latch.example.net' })), name: '' }, { button: 'Add a passkey' });
    expect(phished.status).toBe(400);
    expect(phished.html).toContain('The passkey was not added');

    const { body: again } = await optionsOf<PublicKeyCredentialCreationOptionsJSON>(browser, page, 'register');
    const response = JSON.stringify(authenticator.create(again, { origin: running.baseUrl }));
    expect((await browser.submit(page, { response, name: '' }, { button: 'Add a passkey' })).url.search).toBe('?done=passkey_added');
    const replayed = await browser.submit(page, { response, name: '' }, { button: 'Add a passkey' });
    expect(replayed.status).toBe(400);
    expect(replayed.html).toContain('that took too long, or the page was out of date');

    const rows = await query(running.databaseUrl, 'SELECT 1 FROM passkeys WHERE user_id = $1', [user.id]);
    expect(rows).toHaveLength(1);
  });

  it('renames and removes a passkey (audited); another user\'s passkey is not found', async () => {
    const owner = await userWithPasskey();
    const [row] = await query<{ id: string }>(running.databaseUrl, 'SELECT passkeys.id FROM passkeys JOIN users ON users.id = passkeys.user_id WHERE users.email = $1', [owner.email]);
    const passkeyId = row?.id as string;

    const stranger = await createUser();
    const strangerBrowser = new Browser();
    const strangerPage = await openSecurity(strangerBrowser, stranger.email);
    const { csrf } = formOf(strangerPage, 'Add a passkey').fields;
    const refused = await strangerBrowser.navigate(url('/account/security/passkeys/remove'), { method: 'POST', body: new URLSearchParams({ csrf: csrf ?? '', passkey: passkeyId }) });
    expect(refused.status).toBe(404);
    expect(await query(running.databaseUrl, 'SELECT 1 FROM passkeys WHERE id = $1', [passkeyId])).toHaveLength(1);

    const { browser } = owner;
    const page = await openSecurity(browser, owner.email);
    const renamed = await browser.submit(page, { name: 'Phone' }, { button: 'Rename' });
    expect(renamed.url.search).toBe('?done=passkey_renamed');
    expect(renamed.html).toContain('<strong>Phone</strong>');
    const tooLong = await browser.submit(renamed, { name: 'x'.repeat(65) }, { button: 'Rename' });
    expect(tooLong.status).toBe(400);
    expect(tooLong.html).toContain('at most 64 characters');

    const removed = await browser.submit(renamed, {}, { button: 'Remove' });
    expect(removed.url.search).toBe('?done=passkey_removed');
    expect(await query(running.databaseUrl, 'SELECT 1 FROM passkeys WHERE id = $1', [passkeyId])).toHaveLength(0);
    const events = (await running.latch.audit.list({ subjectId: owner.id, limit: 20 })).map((event) => event.event);
    expect(events).toEqual(expect.arrayContaining(['account.passkey_renamed', 'account.passkey_removed']));
  });
});

describe('signing in with a passkey', () => {
  it('offers the button and conditional UI on the sign-in page, with Latch-served scripts under SRI and a nonce-only CSP', async () => {
    const { page } = await signInPage();

    expect(page.html).toMatch(/<input id="email" name="email" type="email" autocomplete="username webauthn"/);
    expect(page.html).toMatch(/<form method="post" action="\/interaction\/[^/"]+\/passkey" class="passkey" data-passkey-sign-in [^>]*hidden>/);
    const csp = page.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("connect-src 'self'");

    const scripts = [...page.html.matchAll(/<script src="([^"]+)" integrity="([^"]+)" nonce="([^"]+)"><\/script>/g)];
    expect(scripts.map(([, src]) => src)).toEqual([expect.stringMatching(/^\/assets\/simplewebauthn-browser\.[0-9a-f]{16}\.js$/), expect.stringMatching(/^\/assets\/passkeys\.[0-9a-f]{16}\.js$/)]);
    for (const [, src, integrity, scriptNonce] of scripts) {
      expect(scriptNonce).toBe(nonce);
      const response = await fetch(url(src as string));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const body = Buffer.from(await response.arrayBuffer());
      expect(`sha384-${createHash('sha384').update(body).digest('base64')}`).toBe(integrity);
    }
    // A page that runs no script still allows none.
    const home = await fetch(url('/'));
    expect(home.headers.get('content-security-policy')).not.toContain('script-src');
  });

  it('signs a user in without a password: the ID token says hwk and user, and the sign-in is audited', async () => {
    const user = await userWithPasskey();
    const { browser, authorization, page } = await signInPage();

    const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'sign-in');
    expect(options).toMatchObject({ rpId: '127.0.0.1', userVerification: 'required' });
    // Discoverable credentials: the browser offers whichever passkeys it has for Latch.
    expect(options.allowCredentials ?? []).toEqual([]);

    const callback = await postAssertion(browser, page, user.authenticator.get(options, { origin: running.baseUrl }));
    expect(atRedirect(callback.url)).toBe(true);
    const tokens = await authorization.redeem(callback.url);
    expect(tokens.claims()?.sub).toBe(user.id);
    expect(tokens.claims()?.amr).toEqual(['hwk', 'user']);
    expect(tokens.claims()?.acr).toBe('urn:latch:acr:phr');

    const events = await running.latch.audit.list({ subjectId: user.id, event: 'interaction.passkey_signed_in', limit: 5 });
    expect(events).toHaveLength(1);
    const [used] = await query<{ counter: string; last_used_at: Date | null }>(running.databaseUrl, 'SELECT counter::text, last_used_at FROM passkeys WHERE user_id = $1', [user.id]);
    expect(used).toEqual({ counter: '1', last_used_at: expect.any(Date) });
  });

  it('says swk for a synced passkey', async () => {
    const user = await userWithPasskey(new SoftwareAuthenticator({ synced: true }));
    const { browser, authorization, page } = await signInPage();
    const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'sign-in');

    const callback = await postAssertion(browser, page, user.authenticator.get(options, { origin: running.baseUrl }));

    expect((await authorization.redeem(callback.url)).claims()?.amr).toEqual(['swk', 'user']);
  });

  describe('refuses, with the sign-in page again and the failure audited', () => {
    async function refusedWith(present: (options: PublicKeyCredentialRequestOptionsJSON, user: Awaited<ReturnType<typeof userWithPasskey>>) => AuthenticationResponseJSON | string, reason: string, user?: Awaited<ReturnType<typeof userWithPasskey>>) {
      const owner = user ?? (await userWithPasskey());
      const { browser, page } = await signInPage();
      const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'sign-in');

      const refused = await postAssertion(browser, page, present(options, owner));

      expect(refused.status).toBe(401);
      expect(refused.html).toContain('<h1>Sign in</h1>');
      expect(refused.html).toContain(reason === 'no_challenge' ? 'took too long or was already used' : REFUSED);
      expect(running.logs()).toMatch(new RegExp(`"event":"interaction.passkey_failed"[^\\n]*"reason":"${reason}"`));
      return { owner, browser, page: refused };
    }

    it('an assertion over another challenge', () => refusedWith((options, { authenticator }) => authenticator.get({ ...options, challenge: Buffer.from('not the challenge').toString('base64url') }, { origin: running.baseUrl }), 'not_verified'));

    it('an assertion made for another origin (a phishing page)', () => refusedWith((options, { authenticator }) => authenticator.get(options, { origin: 'https://latch.example.net' }), 'not_verified'));

    it('an assertion for another RP ID', () => refusedWith((options, { authenticator }) => authenticator.get(options, { origin: running.baseUrl, rpId: 'example.net' }), 'not_verified'));

    it('an assertion without user verification', async () => {
      const user = await userWithPasskey();
      const unverified = new SoftwareAuthenticator({ userVerified: false });
      await refusedWith((options) => unverified.get(options, { origin: running.baseUrl, credential: user.authenticator.credentials[0] }), 'not_verified', user);
    });

    it('a credential no account has', () => {
      const stranger = new SoftwareAuthenticator();
      stranger.create({ challenge: 'x', rp: { name: 'Latch', id: '127.0.0.1' }, user: { id: 'eA', name: 'x', displayName: 'x' }, pubKeyCredParams: [] }, { origin: running.baseUrl });
      return refusedWith((options) => stranger.get(options, { origin: running.baseUrl }), 'unknown_credential');
    });

    it('a response that is no WebAuthn response', () => refusedWith(() => '{"id": "not base64url!"}', 'unreadable_response'));

    it('the passkey of a disabled account', async () => {
      const user = await userWithPasskey();
      await running.latch.accounts.disable(user.id);
      await refusedWith((options, { authenticator }) => authenticator.get(options, { origin: running.baseUrl }), 'inactive_account', user);
    });

    it('an assertion replayed after it signed in', async () => {
      const user = await userWithPasskey();
      const first = await signInPage();
      const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(first.browser, first.page, 'sign-in');
      const assertion = user.authenticator.get(options, { origin: running.baseUrl });
      expect(atRedirect((await postAssertion(first.browser, first.page, assertion)).url)).toBe(true);

      // In another sign-in, the same response: its challenge was used up, and the new one differs.
      await refusedWith(() => assertion, 'not_verified', user);
      const { browser, page } = await signInPage();
      const withoutOptions = await postAssertion(browser, page, assertion);
      expect(withoutOptions.status).toBe(401);
      expect(withoutOptions.html).toContain('took too long or was already used');
    });

    it('a second response to one challenge (a failed one used it up too)', async () => {
      const { owner, browser, page } = await refusedWith((options, { authenticator }) => authenticator.get(options, { origin: 'https://latch.example.net' }), 'not_verified');
      const again = await postAssertion(browser, page, owner.authenticator.get({ challenge: 'AAAA' }, { origin: running.baseUrl }));
      expect(again.status).toBe(401);
      expect(again.html).toContain('took too long or was already used');
    });

    it('an assertion after its challenge expired', async () => {
      const user = await userWithPasskey();
      const { browser, page } = await signInPage();
      const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'sign-in');
      await query(running.databaseUrl, "UPDATE passkey_challenges SET expires_at = now() - interval '1 second' WHERE challenge = $1", [options.challenge]);

      const refused = await postAssertion(browser, page, user.authenticator.get(options, { origin: running.baseUrl }));

      expect(refused.status).toBe(401);
      expect(refused.html).toContain('took too long or was already used');
    });
  });

  it('counts failures on the owner\'s sign-in counters: after the limit even the right passkey, and the password, wait', async () => {
    const user = await userWithPasskey();
    for (let failures = 0; failures < ACCOUNT_LIMIT; failures += 1) {
      const { browser, page } = await signInPage();
      const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'sign-in');
      expect((await postAssertion(browser, page, user.authenticator.get(options, { origin: 'https://latch.example.net' }))).status).toBe(401);
    }

    const { browser, page } = await signInPage();
    const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'sign-in');
    const locked = await postAssertion(browser, page, user.authenticator.get(options, { origin: running.baseUrl }));
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(locked.html).toContain('Too many attempts.');

    const password = await signInPage();
    expect((await signInForm(password.page, user.email, PASSWORD, password.browser)).status).toBe(429);
  });

  describe('as the second step after a password', () => {
    /** A password sign-in of a user with a passkey: at the second step. */
    async function atSecondStep(user: { email: string }) {
      const start = await signInPage();
      const page = await signInForm(start.page, user.email, PASSWORD, start.browser);
      expect(page.html).toContain('<h1>Two-step verification</h1>');
      expect(page.html).toContain('data-passkey-second-factor');
      return { ...start, page };
    }
    const postSecondFactor = (browser: Browser, page: Page, response: AuthenticationResponseJSON) =>
      browser.submit(page, { response: JSON.stringify(response) }, { button: 'Use a passkey', stopAt: atRedirect });

    it("asks for the user's own passkey; the ID token then says pwd, hwk, user and mfa, phishing-resistant", async () => {
      const user = await userWithPasskey();
      const { browser, authorization, page } = await atSecondStep(user);

      const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'second-factor');
      expect(options.userVerification).toBe('required');
      expect(options.allowCredentials?.map(({ id }) => id)).toEqual([user.authenticator.credentials[0]?.id]);
      const callback = await postSecondFactor(browser, page, user.authenticator.get(options, { origin: running.baseUrl }));

      expect(atRedirect(callback.url)).toBe(true);
      const claims = (await authorization.redeem(callback.url)).claims();
      expect([...(claims?.amr as string[])].sort()).toEqual(['hwk', 'mfa', 'pwd', 'user']);
      expect(claims?.acr).toBe('urn:latch:acr:phr');
    });

    it("refuses another account's passkey, and a response to the passwordless ceremony", async () => {
      const user = await userWithPasskey();
      const other = await userWithPasskey();
      const { browser, page } = await atSecondStep(user);

      const { body: options } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, page, 'second-factor');
      const refused = await postSecondFactor(browser, page, other.authenticator.get(options, { origin: running.baseUrl }));
      expect(refused.status).toBe(401);
      expect(refused.html).toContain('<h1>Two-step verification</h1>');

      // The second step's challenge is the user's own: it signs nobody in without the password.
      const { body: again } = await optionsOf<PublicKeyCredentialRequestOptionsJSON>(browser, refused, 'second-factor');
      const form = formOf(refused, 'Use a passkey');
      const passwordless = await browser.navigate(new URL(form.action.pathname.replace(/second-factor$/, 'passkey'), running.baseUrl), {
        method: 'POST',
        body: new URLSearchParams({ csrf: form.fields.csrf ?? '', response: JSON.stringify(user.authenticator.get(again, { origin: running.baseUrl })) }),
        stopAt: atRedirect,
      });
      expect(atRedirect(passwordless.url)).toBe(false);
      expect(passwordless.status).toBe(401);
      expect(passwordless.html).toContain('took too long or was already used');
    });
  });

  it("an admin's factor reset removes the user's passkeys too: the password alone signs in again", async () => {
    const user = await userWithPasskey();
    expect((await atSecondStepOf(user)).html).toContain('<h1>Two-step verification</h1>');

    await running.latch.factors.reset(user.id, 'admin');

    expect(await query(running.databaseUrl, 'SELECT 1 FROM passkeys WHERE user_id = $1', [user.id])).toHaveLength(0);
    expect(atRedirect((await atSecondStepOf(user)).url)).toBe(true);
  });

  it('answers an options request of a stale or foreign interaction with a page, not a 500', async () => {
    const { browser, page } = await signInPage();
    const form = formOf(page, 'Sign in with a passkey');
    const stale = await browser.navigate(url('/interaction/not-this-one/passkey/options'), { method: 'POST', body: new URLSearchParams({ csrf: form.fields.csrf ?? '' }) });
    expect(stale.status).toBe(400);
    expect(stale.html).toContain('This sign-in has expired');

    const forged = await browser.navigate(new URL(`${form.action.pathname}/options`, running.baseUrl), { method: 'POST', body: new URLSearchParams({ csrf: 'forged' }) });
    expect(forged.status).toBe(403);
  });
});
