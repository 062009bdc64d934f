import { Browser, formOf } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
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

const rotations = async () => query<{ actor: string; details: { created: string[]; retired: string[] } }>(running.databaseUrl, "SELECT actor, details FROM audit_events WHERE event = 'key.rotated' ORDER BY id");

describe('the signing keys page', () => {
  it('lists every key with its algorithm, state and dates', async () => {
    const { browser } = await signedInAdmin(running, '/keys');
    const page = await browser.navigate(consoleUrl('/keys'));
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('<h1>Signing keys</h1>');
    expect(page.html).toMatch(/<a href="\/admin\/keys" aria-current="page">Signing keys<\/a>/);
    const keys = await running.latch.admin.keys.list();
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys) expect(page.html).toMatch(new RegExp(`<td><code>${key.kid}</code></td>\\s*<td>${key.alg}</td>\\s*<td><span class="tag ${key.state}">`));
  });

  it('rotates through a confirmation page that says what rotation does, audited with the admin as actor', async () => {
    const { admin, browser } = await signedInAdmin(running, '/keys');
    const before = await running.latch.admin.keys.list();
    const keysPage = await browser.navigate(consoleUrl('/keys'));
    const confirm = await browser.navigate(new URL(/<a href="(\/admin\/keys\/rotate)">Rotate now/.exec(keysPage.html)?.[1] ?? '/nowhere', running.baseUrl).href);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('Rotate the signing keys?');
    expect(confirm.html).toContain('RS256, ES256, EdDSA');
    expect(confirm.html).toContain('in 24 hours');
    expect(confirm.html).toContain('stay published until every token they signed has expired');

    // Without the form's anti-forgery token: refused, nothing rotated.
    const forged = await browser.navigate(formOf(confirm, 'Rotate the signing keys').action, { method: 'POST', body: new URLSearchParams({ csrf: 'x'.repeat(43) }) });
    expect(forged.status).toBe(403);
    expect(forged.html).toContain('This form could not be verified');
    expect(await running.latch.admin.keys.list()).toHaveLength(before.length);

    const rotated = await postForm(browser, confirm, 'Rotate the signing keys');
    expect(rotated.url.href).toBe(consoleUrl('/keys?done=rotated'));
    expect(rotated.html).toContain('New keys are published.');
    const after = await running.latch.admin.keys.list();
    const staged = after.filter((key) => key.state === 'staged');
    expect(staged.map((key) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    for (const key of staged) expect(rotated.html).toContain(`<code>${key.kid}</code>`);
    const [event] = (await rotations()).slice(-1);
    expect(event?.actor).toBe(admin.id);
    expect(event?.details.created.sort()).toEqual(staged.map((key) => key.kid).sort());

    const overview = await browser.navigate(consoleUrl());
    expect(overview.html).toContain('A rotation is under way');
  });

  it('asks an admin whose sign-in is older than five minutes to sign in again (max_age) before rotating', async () => {
    const { admin, browser } = await signedInAdmin(running, '/keys');
    const confirm = await browser.navigate(consoleUrl('/keys/rotate'));
    expect(confirm.html).toContain('Rotate the signing keys?');
    const count = (await rotations()).length;

    offsetMs += 6 * 60 * 1000;
    try {
      const refused = await postForm(browser, confirm, 'Rotate the signing keys');
      expect(refused.status).toBe(403);
      expect(refused.html).toContain('Sign in again first');
      expect(await rotations()).toHaveLength(count);

      const again = await browser.navigate(consoleUrl('/keys/rotate'));
      expect(isSignInPage(again)).toBe(true);
      // oidc-provider stamps auth_time from the real clock: back to it, so that the new sign-in is the recent one it is.
      offsetMs = 0;
      const back = await signInToConsole(browser, again, admin);
      expect(back.url.href).toBe(consoleUrl('/keys/rotate'));
      const rotated = await postForm(browser, back, 'Rotate the signing keys');
      expect(rotated.url.href).toBe(consoleUrl('/keys?done=rotated'));
      expect(await rotations()).toHaveLength(count + 1);
    } finally {
      offsetMs = 0;
    }
  });

  it('refuses a rotation from a browser that is not signed in to the console, with a page', async () => {
    const { browser } = await signedInAdmin(running, '/keys');
    const confirm = await browser.navigate(consoleUrl('/keys/rotate'));
    const form = formOf(confirm, 'Rotate the signing keys');
    const count = (await rotations()).length;
    const stranger = await new Browser().navigate(form.action, { method: 'POST', body: new URLSearchParams(form.fields) });
    expect(stranger.status).toBe(403);
    expect(await rotations()).toHaveLength(count);
  });
});
