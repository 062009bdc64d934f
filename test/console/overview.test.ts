import { Browser, type Page } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';
import { createAdmin, isSignInPage, signInToConsole, type ConsoleAdmin } from './support.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch();
});

afterAll(async () => {
  await running?.stop();
});

const consoleUrl = (path = '') => `${running.baseUrl}/admin${path}`;
const today = () => new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date());

async function open(browser: Browser, admin: ConsoleAdmin, path = ''): Promise<Page> {
  const page = await browser.navigate(consoleUrl(path));
  return isSignInPage(page) ? signInToConsole(browser, page, admin) : page;
}

/** The value of a bar, as its tooltip says it: "2 Dec, sign-ins: 1". */
function bar(page: Page, slot: string, series: 'sign-ins' | 'failed'): number | undefined {
  const match = new RegExp(`<title>${slot}, ${series}: (\\d+)</title>`).exec(page.html);
  return match ? Number(match[1]) : undefined;
}

/** The daily chart's totals row: [sign-ins, failed]. */
function monthTotals(page: Page): [number, number] {
  const table = page.html.slice(page.html.indexOf('id="sign-ins-daily-title"'));
  const match = /<tfoot><tr><th scope="row">Total<\/th><td class="number">(\d+)<\/td><td class="number">(\d+)<\/td>/.exec(table);
  return [Number(match?.[1]), Number(match?.[2])];
}

describe('the overview', () => {
  it('is the console’s first page, uncached, with every figure, its charts accessible and the signing keys’ state', async () => {
    const admin = await createAdmin(running);
    const page = await open(new Browser(), admin);
    expect(page.status).toBe(200);
    expect(page.url.href).toBe(consoleUrl());
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('<h1>Overview</h1>');
    expect(page.html).toMatch(/<a href="\/admin" aria-current="page">Overview<\/a>/);
    expect(page.html).toMatch(/<svg role="img" aria-labelledby="sign-ins-hourly-title"[^>]*>\s*<title id="sign-ins-hourly-title">/);
    expect(page.html).toContain('<title id="sign-ins-daily-title">');
    // 24 hourly and 30 daily slots, two bars each, every one titled.
    expect(page.html.match(/<rect class="bar-[a-z-]+"[^>]*><title>/g)).toHaveLength((24 + 30) * 2);
    // No style attribute anywhere: the CSP admits none.
    expect(page.html).not.toMatch(/\sstyle=/);
    const keys = await running.latch.admin.keys.list();
    for (const key of keys.filter((one) => one.state === 'active')) expect(page.html).toContain(`<code>${key.kid}</code>`);
    expect(page.html).toContain('Latch has no rotation period');
    expect(page.html).toContain('<a href="/admin/keys">');
  });

  it('counts a sign-in and a failed password in today’s bar and the totals, and users and sessions', async () => {
    const admin = await createAdmin(running);
    const browser = new Browser();
    const before = await open(browser, admin);
    const [signInsBefore, failuresBefore] = monthTotals(before);
    const todayBefore = { signIns: bar(before, today(), 'sign-ins') ?? 0, failures: bar(before, today(), 'failed') ?? 0 };

    const user = await createUser(running);
    const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/cb'], scope: 'openid email' });
    const party = await relyingParty(running, client);
    await expect(signIn(party, { email: user.email, password: 'not the password' }, { scope: 'openid' })).rejects.toThrow('did not reach the redirect URI');
    await signIn(party, user, { scope: 'openid' });

    const after = await browser.navigate(consoleUrl());
    expect(monthTotals(after)).toEqual([signInsBefore + 1, failuresBefore + 1]);
    expect(bar(after, today(), 'sign-ins')).toBe(todayBefore.signIns + 1);
    expect(bar(after, today(), 'failed')).toBe(todayBefore.failures + 1);
    const { users } = await running.latch.admin.overview.figures();
    expect(after.html).toContain(`<span class="figure">${users.total}</span> users`);
    expect(after.html).toContain(`${users.byStatus.active} active`);
    // The admin's console session and the user's, at least.
    expect(Number(/<span class="figure">(\d+)<\/span> active sessions/.exec(after.html)?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('shows client credentials tokens by grant type once the counts are flushed', async () => {
    const admin = await createAdmin(running);
    const browser = new Browser();
    await open(browser, admin);
    const machine = await registerClient(running.latch, { grant_types: ['client_credentials'], response_types: [], redirect_uris: [] });
    for (let n = 0; n < 3; n += 1) {
      const response = await running
        .http()
        .post('/token')
        .auth(machine.client_id, machine.client_secret ?? '')
        .type('form')
        .send({ grant_type: 'client_credentials' });
      expect(response.status).toBe(200);
    }
    await running.latch.tokenIssuance.flush();

    const page = await browser.navigate(consoleUrl());
    expect(page.html).toMatch(/<tr><td><code>client_credentials<\/code><\/td><td class="number">3<\/td><td class="number">3<\/td><\/tr>/);
    expect(page.html).toContain('stored every 10 seconds');
  });
});
