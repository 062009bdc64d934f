import { Browser, formOf, type Page } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';
import { createAdmin as createAdminIn, isSignInPage, postForm, signInToConsole, type ConsoleAdmin } from './support.js';

let running: RunningLatch;

beforeAll(async () => {
  // The paging test registers more users than one address may in a minute by default.
  running = await startLatch({ REGISTRATIONS_PER_IP_PER_MINUTE: '1000' });
});

afterAll(async () => {
  await running?.stop();
});

const consoleUrl = (path = '') => `${running.baseUrl}/admin${path}`;
const createAdmin = () => createAdminIn(running);

/** Opens a console page as a person would: through the sign-in pages when the browser has no console session yet. */
async function open(browser: Browser, user: ConsoleAdmin, path = '/users'): Promise<Page> {
  const page = await browser.navigate(consoleUrl(path));
  return isSignInPage(page) ? signInToConsole(browser, page, user) : page;
}

const userPath = (user: TestUser) => `/users/${user.id}`;

describe('signing in to the admin console', () => {
  it('sends a signed-out browser through Latch sign-in and back to the page it asked for, uncached, under a strict CSP', async () => {
    const admin = await createAdmin();
    const browser = new Browser();

    const first = await browser.navigate(consoleUrl(`/users?q=${encodeURIComponent(admin.email)}`));
    expect(isSignInPage(first)).toBe(true);
    expect(first.html).toContain('Latch admin console');
    const page = await signInToConsole(browser, first, admin);

    expect(page.status).toBe(200);
    expect(page.url.href).toBe(consoleUrl(`/users?q=${encodeURIComponent(admin.email)}`));
    expect(page.html).toContain('<h1>Users</h1>');
    expect(page.html).toContain(admin.email);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'nonce-([^']+)'; script-src 'nonce-\1'; connect-src 'self'; frame-ancestors 'none'/);
    // The tokens stay on the server's side of the cookie: sealed, unreadable to the browser.
    const sealed = browser.cookie(consoleUrl(), 'latch.console') ?? '';
    expect(sealed.split('.')).toHaveLength(5);
    expect(sealed).not.toMatch(/eyJ[^.]*\.eyJ/);
  });

  it('serves its one script itself, with the integrity the page names', async () => {
    const admin = await createAdmin();
    const page = await open(new Browser(), admin);
    const [, src, integrity] = /<script nonce="[^"]+" src="([^"]+)" integrity="([^"]+)"/.exec(page.html) ?? [];
    const response = await fetch(`${running.baseUrl}${src}`);
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('content-type')).toMatch(/^application\/javascript/);
    const { createHash } = await import('node:crypto');
    expect(`sha384-${createHash('sha384').update(body).digest('base64')}`).toBe(integrity);
  });

  it('shows a user without the admin role a 403 page, not the console', async () => {
    const user = await createUser(running);
    // The console's client requires a second factor of everyone who signs in to it, admin or not.
    const page = await open(new Browser(), user);
    expect(page.status).toBe(403);
    expect(page.html).toContain('This is for administrators');
    expect(page.html).not.toContain('<h1>Users</h1>');
  });

  it('stops at once when the admin is disabled or loses the admin role, and a forged callback signs nobody in', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    expect((await open(browser, admin)).status).toBe(200);

    await running.latch.authorization.assignments.unassign({ user: admin.id }, 'admin', 'admin');
    expect((await browser.navigate(consoleUrl('/users'))).status).toBe(403);

    await running.latch.authorization.assignments.assign({ user: admin.id }, 'admin', 'admin');
    expect((await browser.navigate(consoleUrl('/users'))).status).toBe(200);
    await running.latch.admin.users.disable(admin.id, 'admin');
    // Its tokens are gone and its refresh fails: the console sends it to sign in, which refuses a disabled account.
    expect(isSignInPage(await browser.navigate(consoleUrl('/users')))).toBe(true);

    const forged = await new Browser().navigate(consoleUrl('/callback?code=abc&state=def'));
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('You are not signed in');
  });
});

describe("the console's second factor", () => {
  const MFA = 'urn:latch:acr:mfa';
  const consoleSignIns = (admin: ConsoleAdmin) =>
    query<{ details: { acr: string; amr: string[] } }>(running.databaseUrl, "SELECT details FROM audit_events WHERE event = 'interaction.signed_in' AND subject_id = $1 AND details->>'clientId' = 'latch-admin' ORDER BY id", [admin.id]);

  it('makes an admin without one set an authenticator app up in the sign-in before the console opens, and asks for it after', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    const first = await browser.navigate(consoleUrl('/users'));
    const enrol = await browser.submit(first, { email: admin.email, password: admin.password }, { button: 'Sign in' });
    expect(enrol.status).toBe(200);
    expect(enrol.html).toContain('<h1>Set up two-step verification</h1>');
    expect(enrol.html).toContain('<strong>Latch admin console</strong> asks for a second factor');
    // The password alone opened nothing: the console still sends the browser to sign in.
    const again = await browser.navigate(consoleUrl('/users'));
    expect(isSignInPage(again)).toBe(true);

    const page = await signInToConsole(browser, again, admin);
    expect(page.url.href).toBe(consoleUrl('/users'));
    expect(page.html).toContain('<h1>Users</h1>');
    // Another browser, with the factor now set up: the password, then the app's code.
    expect((await open(new Browser(), admin)).html).toContain('<h1>Users</h1>');
    expect((await consoleSignIns(admin)).map(({ details }) => [details.acr, details.amr])).toEqual([
      [MFA, ['pwd', 'otp', 'mfa']],
      [MFA, ['pwd', 'otp', 'mfa']],
    ]);
  });

  it('answers "Not now" with its own page, not a 500, and sets nothing up', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    const enrol = await browser.submit(await browser.navigate(consoleUrl('/users')), { email: admin.email, password: admin.password }, { button: 'Sign in' });
    const declined = await browser.submit(enrol, {}, { button: 'Not now' });
    expect(declined.url.pathname).toBe('/admin/callback');
    expect(declined.status).toBe(403);
    expect(declined.html).toContain('The admin console needs a second factor');
    expect(declined.html).toContain('href="/admin"');
    const [unmet] = await query<{ details: { clientId: string } }>(running.databaseUrl, "SELECT details FROM audit_events WHERE event = 'interaction.authentication_requirements_unmet' AND subject_id = $1", [admin.id]);
    expect(unmet?.details.clientId).toBe('latch-admin');
    expect(await consoleSignIns(admin)).toEqual([]);

    // Still closed, and the next sign-in offers the set-up again: nothing was half set up.
    const next = await browser.navigate(consoleUrl('/users'));
    expect(isSignInPage(next)).toBe(true);
    expect((await signInToConsole(browser, next, admin)).html).toContain('<h1>Users</h1>');
  });
});

describe('the users pages', () => {
  it('search by email or name, filter by status, and page by keyset without JavaScript', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    await open(browser, admin);
    const tag = `paging${Date.now()}`;
    const created: TestUser[] = [];
    for (let n = 0; n < 53; n += 1) created.push(await createUser(running, { name: `${tag} person ${n}` }));
    await running.latch.admin.users.disable(created[0]!.id, 'admin');

    const first = await browser.navigate(consoleUrl(`/users?q=${tag}`));
    const emailsOn = (page: Page) => [...page.html.matchAll(/<a href="\/admin\/users\/[0-9a-f-]+">([^<]+)<\/a>/g)].map((match) => match[1]);
    expect(emailsOn(first)).toHaveLength(50);
    const next = /<a href="([^"]+)" rel="next">/.exec(first.html)?.[1]?.replaceAll('&amp;', '&');
    expect(next).toBeDefined();
    const second = await browser.navigate(new URL(next as string, running.baseUrl));
    expect(emailsOn(second)).toHaveLength(3);
    expect(second.html).not.toContain('rel="next"');
    // Newest first, and no one twice or missing across the pages.
    expect(new Set([...emailsOn(first), ...emailsOn(second)])).toEqual(new Set(created.map((user) => user.email)));

    const disabled = await browser.navigate(consoleUrl(`/users?q=${tag}&status=disabled`));
    expect(emailsOn(disabled)).toEqual([created[0]!.email]);
    const byName = await browser.navigate(consoleUrl(`/users?q=${encodeURIComponent(`${tag} person 7`)}`));
    expect(emailsOn(byName)).toEqual([created[7]!.email]);

    expect((await browser.navigate(consoleUrl('/users?status=sleeping'))).status).toBe(400);
    expect((await browser.navigate(consoleUrl('/users?cursor=not-a-cursor'))).status).toBe(400);
  });

  it("show a user's profile, sessions, apps and events; disable ends the app's refresh, enable lets them back in", async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    await open(browser, admin);
    const user = await createUser(running, { name: 'Ada Lovelace' });
    const app = await registerClient(running.latch, { client_name: 'Notes App', redirect_uris: ['https://notes.example.com/callback'], first_party: true });
    const { tokens } = await signIn(await relyingParty(running, app), user);

    const page = await browser.navigate(consoleUrl(userPath(user)));
    expect(page.status).toBe(200);
    expect(page.html).toContain(`<h1>${user.email}</h1>`);
    expect(page.html).toContain('Ada Lovelace');
    expect(page.html).toContain('not verified');
    expect(page.html).toContain('Notes App');
    expect(page.html).toContain('interaction.signed_in');

    const disabled = await postForm(browser, page, 'Disable');
    expect(disabled.url.href).toBe(consoleUrl(`${userPath(user)}?done=disabled`));
    expect(disabled.html).toContain('The user is disabled');
    const refresh = await fetch(`${running.baseUrl}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' }),
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant');
    const [event] = await query<{ actor: string }>(running.databaseUrl, "SELECT actor FROM audit_events WHERE event = 'account.disabled' AND subject_id = $1", [user.id]);
    expect(event?.actor).toBe(admin.id);

    const enabled = await postForm(browser, disabled, 'Enable');
    expect(enabled.html).toContain('The user is enabled again');
    await signIn(await relyingParty(running, app), user);
  });

  it('send a reset and sign a user out everywhere, audited as the admin', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    await open(browser, admin);
    const user = await createUser(running);
    await signIn(await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://a.example.com/cb'], first_party: true })), user);

    const page = await browser.navigate(consoleUrl(userPath(user)));
    expect(page.html).not.toContain('Not signed in anywhere.');
    const reset = await postForm(browser, page, 'Send password reset');
    expect(reset.html).toContain('A password reset link has been mailed');
    const signedOut = await postForm(browser, reset, 'Sign out everywhere');
    expect(signedOut.html).toContain('Every session of the user has been signed out.');
    expect(signedOut.html).toContain('Not signed in anywhere.');
    const events = await query<{ event: string; actor: string }>(running.databaseUrl, 'SELECT event, actor FROM audit_events WHERE subject_id = $1 AND actor IS NOT NULL ORDER BY id', [user.id]);
    expect(events).toEqual(expect.arrayContaining([{ event: 'password.reset_requested', actor: admin.id }, expect.objectContaining({ actor: admin.id })]));
  });

  it('delete a user only once their email is typed on the confirmation page', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    const user = await createUser(running);
    const confirm = await open(browser, admin, `${userPath(user)}/delete`);
    expect(confirm.html).toContain(`Delete ${user.email}?`);

    const wrong = await postForm(browser, confirm, 'Delete user', { email: 'someone@example.com' });
    expect(wrong.status).toBe(422);
    expect(wrong.html).toContain('nothing was deleted');
    expect((await browser.navigate(consoleUrl(userPath(user)))).status).toBe(200);

    const deleted = await postForm(browser, wrong, 'Delete user', { email: user.email.toUpperCase() });
    expect(deleted.url.href).toBe(consoleUrl('/users?done=deleted'));
    expect(deleted.html).toContain('The user has been deleted.');
    const gone = await browser.navigate(consoleUrl(userPath(user)));
    expect(gone.status).toBe(404);
    expect(gone.html).toContain('No such user');
  });
});

describe("the console's refusals", () => {
  it('refuses a form without its anti-forgery token with a 403 page, changing nothing', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    const user = await createUser(running);
    const page = await open(browser, admin, userPath(user));
    const form = formOf(page, 'Disable');
    const refused = await browser.navigate(form.action, { method: 'POST', body: new URLSearchParams({ csrf: 'x'.repeat(43) }) });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('This form could not be verified');
    expect((await running.latch.admin.users.find(user.id)).status).toBe('active');
  });

  it('answers an unknown or malformed user id with a 404 page, and a signed-out post with a page, never a 500', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    await open(browser, admin);
    for (const path of ['/users/00000000-0000-4000-8000-000000000000', '/users/not-an-id', '/users/00000000-0000-4000-8000-000000000000/delete', '/nowhere']) {
      const page = await browser.navigate(consoleUrl(path));
      expect([path, page.status]).toEqual([path, 404]);
    }
    const user = await createUser(running);
    const page = await browser.navigate(consoleUrl(userPath(user)));
    const form = formOf(page, 'Disable');
    const stranger = await new Browser().navigate(form.action, { method: 'POST', body: new URLSearchParams(form.fields) });
    expect(stranger.status).toBe(403);
    expect((await running.latch.admin.users.find(user.id)).status).toBe('active');
    const bad = await browser.navigate(consoleUrl('/audit?since=yesterday'));
    expect(bad.status).toBe(400);
  });
});

describe('the audit page', () => {
  it('filters by user, event and time; rows link to their user', async () => {
    const admin = await createAdmin();
    const browser = new Browser();
    await open(browser, admin);
    const user = await createUser(running);
    await running.latch.admin.users.disable(user.id, admin.id);

    const page = await browser.navigate(consoleUrl(`/audit?user=${encodeURIComponent(user.email)}&event=account.disabled`));
    expect(page.status).toBe(200);
    expect(page.html).toContain('<code>account.disabled</code>');
    expect(page.html).toContain(`<a href="/admin/users/${user.id}">${user.id}</a>`);
    expect(page.html).toContain(`<a href="/admin/users/${admin.id}">${admin.id}</a>`);
    expect(page.html).not.toContain('account.registered');

    const future = await browser.navigate(consoleUrl(`/audit?user=${user.id}&since=2999-01-01T00:00`));
    expect(future.html).toContain('No events.');
  });
});
