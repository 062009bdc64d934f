import type { Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';
import { query } from '../support/sql.js';
import { isSignInPage, postForm, signedInAdmin, signInToConsole } from './support.js';

let running: RunningLatch;
/** Latch's clock runs this far ahead of the real one: for sign-ins that grow old. */
let offsetMs = 0;

beforeAll(async () => {
  running = await startLatch({}, { now: () => new Date(Date.now() + offsetMs) });
});

afterAll(async () => {
  await running?.stop();
});

const consoleUrl = (path = '') => `${running.baseUrl}/admin${path}`;

/** The text of a <pre class="copy"> block, unescaped. */
const blocks = (page: Page) => [...page.html.matchAll(/<pre class="copy"[^>]*>([\s\S]*?)<\/pre>/g)].map((match) => (match[1] ?? '').replaceAll('&#39;', "'").replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&#34;', '"'));

describe('the applications wizard', () => {
  it('registers a Next.js app from its address alone and ends on NextAuth configuration that signs a user in', async () => {
    const { admin, browser } = await signedInAdmin(running, '/apps');
    const choose = await browser.navigate(consoleUrl('/apps/new'));
    expect(choose.html).toContain('href="/admin/apps/new?kind=nextjs"');
    const wizard = await browser.navigate(consoleUrl('/apps/new?kind=nextjs'));
    expect(wizard.html).toContain('name="appUrl"');
    expect(wizard.html).not.toContain('name="redirectUris"');

    const created = await postForm(browser, wizard, 'Register', { name: 'Shop', appUrl: 'http://localhost:3001/' });
    expect(created.status).toBe(201);
    const [, env, snippet] = blocks(created);
    const secret = /AUTH_LATCH_SECRET=(\S+)/.exec(env ?? '')?.[1];
    const clientId = /AUTH_LATCH_ID=(\S+)/.exec(env ?? '')?.[1] as string;
    expect(env).toContain(`AUTH_LATCH_ISSUER=${running.baseUrl}`);
    expect(env).toContain('NEXTAUTH_URL=http://localhost:3001');
    expect(snippet).toContain('clientSecret: process.env.AUTH_LATCH_SECRET,');
    expect(secret).toBeDefined();

    // The secret is shown once: the app's page does not have it.
    const appPage = await browser.navigate(consoleUrl(`/apps/${clientId}`));
    expect(appPage.html).toContain('http://localhost:3001/api/auth/callback/latch');
    expect(appPage.html).not.toContain(secret as string);

    const user = await createUser(running);
    const client = { client_id: clientId, client_secret: secret as string, redirect_uris: ['http://localhost:3001/api/auth/callback/latch'], token_endpoint_auth_method: 'client_secret_basic' as const };
    const { tokens } = await signIn(await relyingParty(running, client), user, { params: { prompt: 'consent' } });
    expect(tokens.refresh_token).toBeDefined();
    const [event] = await query<{ actor: string }>(running.databaseUrl, "SELECT actor FROM audit_events WHERE event = 'client.created' AND details->>'clientId' = $1", [clientId]);
    expect(event?.actor).toBe(admin.id);
  });

  it('asks a single-page app for its redirect URIs and gives it no secret; a machine client gets client credentials', async () => {
    const { browser } = await signedInAdmin(running, '/apps');
    const spa = await postForm(browser, await browser.navigate(consoleUrl('/apps/new?kind=spa')), 'Register', { name: 'Board', redirectUris: 'https://board.example.com/callback\nhttp://127.0.0.1:5173/callback' });
    expect(spa.status).toBe(201);
    expect(spa.html).not.toContain('client secret is shown only now');
    expect(blocks(spa)[0]).toContain('PKCE: S256 (required)');

    const machine = await postForm(browser, await browser.navigate(consoleUrl('/apps/new?kind=machine')), 'Register', { name: 'Nightly export' });
    expect(machine.status).toBe(201);
    expect(machine.html).toContain('client secret is shown only now');
    expect(blocks(machine)[2]).toContain('grant_type=client_credentials');
  });

  it("shows the provider's own refusal next to the redirect URIs, keeps what was typed, and lists no built-in client", async () => {
    const { browser } = await signedInAdmin(running, '/apps');
    const refused = await postForm(browser, await browser.navigate(consoleUrl('/apps/new?kind=spa')), 'Register', { name: 'Bad', redirectUris: 'not a uri' });
    expect(refused.status).toBe(422);
    expect(refused.html).toMatch(/<p class="alert" role="alert" id="form-error">The client is not valid: redirect_uris/);
    expect(refused.html).toContain('>not a uri</textarea>');

    const created = await postForm(browser, await browser.navigate(consoleUrl('/apps/new?kind=spa')), 'Register', { name: 'Good', redirectUris: 'https://good.example.com/cb' });
    const clientId = /Client ID: (\S+)/.exec(blocks(created)[0] ?? '')?.[1] as string;
    const page = await browser.navigate(consoleUrl(`/apps/${clientId}`));
    const edited = await postForm(browser, page, 'Save redirect URIs', { redirectUris: 'https://good.example.com/cb#fragment' });
    expect(edited.status).toBe(422);
    expect(edited.html).toContain('role="alert" id="redirects-error">The client is not valid:');
    const saved = await postForm(browser, page, 'Save redirect URIs', { redirectUris: 'https://good.example.com/cb https://good.example.com/other' });
    expect(saved.html).toContain('The redirect URIs have been saved.');
    expect((await running.latch.admin.clients.show(clientId)).redirectUris).toEqual(['https://good.example.com/cb', 'https://good.example.com/other']);

    const list = await browser.navigate(consoleUrl('/apps'));
    expect(list.html).toContain('Good');
    expect(list.html).not.toContain('latch-admin');
    expect(list.html).not.toContain('latch-account');
    expect((await browser.navigate(consoleUrl('/apps/latch-admin'))).status).toBe(404);
  });

  it('rotates a secret only from its confirmation page, and the old one stops working', async () => {
    const { browser } = await signedInAdmin(running, '/apps');
    const created = await postForm(browser, await browser.navigate(consoleUrl('/apps/new?kind=machine')), 'Register', { name: 'Rotating' });
    const [, config] = blocks(created);
    const clientId = /Client ID: (\S+)/.exec(config ?? '')?.[1] as string;
    const secretOf = (page: Page) => /id="client-secret">([^<]+)<\/pre>/.exec(page.html)?.[1] as string;
    const token = (secret: string) =>
      fetch(`${running.baseUrl}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
      });
    const oldSecret = secretOf(created);
    expect((await token(oldSecret)).status).toBe(200);
    const confirm = await browser.navigate(consoleUrl(`/apps/${clientId}/rotate-secret`));
    expect(confirm.html).toContain('stops working at once');
    const rotated = await postForm(browser, confirm, 'Rotate the secret');
    expect(rotated.html).toContain('The old secret no longer works.');
    expect((await token(oldSecret)).status).toBe(401);
    expect((await token(secretOf(rotated))).status).toBe(200);
    const [event] = await query(running.databaseUrl, "SELECT 1 FROM audit_events WHERE event = 'client.secret_rotated' AND details->>'clientId' = $1", [clientId]);
    expect(event).toBeDefined();
  });
});

describe('re-authentication before a destructive action', () => {
  it('sends an admin whose sign-in is older than five minutes through sign-in again (max_age) before deleting', async () => {
    const { admin, browser } = await signedInAdmin(running, '/apps');
    const user = await createUser(running);
    const confirm = await browser.navigate(consoleUrl(`/users/${user.id}/delete`));
    expect(confirm.html).toContain(`Delete ${user.email}?`);

    offsetMs += 6 * 60 * 1000;
    try {
      const refused = await postForm(browser, confirm, 'Delete user', { email: user.email });
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('Sign in again first');
      expect((await running.latch.admin.users.find(user.id)).id).toBe(user.id);

      const again = await browser.navigate(consoleUrl(`/users/${user.id}/delete`));
      // Despite the admin's live Latch session: max_age=0 asks for the password again.
      expect(isSignInPage(again)).toBe(true);
      // oidc-provider stamps auth_time from the real clock: back to it, so that the new sign-in is the recent one it is.
      offsetMs = 0;
      // The admin's authenticator app is asked for again too: max_age is a whole new sign-in.
      const back = await signInToConsole(browser, again, admin);
      expect(back.url.href).toBe(consoleUrl(`/users/${user.id}/delete`));
      const deleted = await postForm(browser, back, 'Delete user', { email: user.email });
      expect(deleted.url.href).toBe(consoleUrl('/users?done=deleted'));
    } finally {
      offsetMs = 0;
    }
  });
});
