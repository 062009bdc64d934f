import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { medianMilliseconds } from '../account/timing.js';
import { Browser, type Page } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { linkIn, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../support/smtp-server.js';
import { query } from '../support/sql.js';

const NEW_PASSWORD = 'a brand new and memorable passphrase';
const REDIRECT_URI = 'https://app.example.com/callback';
const RESET_SUBJECT = /^Reset your/;

// Latch's clock, moved by the expiry test.
let skewMs = 0;
let smtp: TestSmtpServer;
let running: RunningLatch;
let app: oidc.Configuration;

beforeAll(async () => {
  smtp = await startSmtpServer();
  running = await startLatch({ SMTP_URL: smtp.url, MAIL_FROM: 'Latch <no-reply@example.com>', ACCOUNT_MAILS_PER_HOUR: '1000' }, { now: () => new Date(Date.now() + skewMs) });
  // First-party: no consent page, so the story stays on the reset.
  const client = await registerClient(running.latch, { redirect_uris: [REDIRECT_URI], first_party: true });
  app = await relyingParty(running, client);
});

afterAll(async () => {
  await running?.stop();
  await smtp?.stop();
});

afterEach(() => {
  skewMs = 0;
});

const atRedirect = (url: URL) => url.href.startsWith(REDIRECT_URI);

/** Asks for a reset on the sign-in page's "Forgot your password?" link, and returns the mailed link. */
async function askForReset(browser: Browser, user: TestUser): Promise<{ login: Page; mail: ReceivedMail }> {
  const before = smtp.received.filter((mail) => mail.to.includes(user.email) && RESET_SUBJECT.test(mail.subject)).length;
  const authorization = oidc.buildAuthorizationUrl(app, { redirect_uri: REDIRECT_URI, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: oidc.randomState() });
  const login = await browser.navigate(authorization, { stopAt: atRedirect });
  const forgot = /<a href="([^"]+)">Forgot your password\?<\/a>/.exec(login.html)?.[1];
  expect(forgot).toBeDefined();
  const form = await browser.navigate(new URL((forgot as string).replace(/&amp;/g, '&'), running.baseUrl));
  const sent = await browser.submit(form, { email: user.email }, { button: 'Send me a link' });
  expect(sent.status).toBe(200);
  expect(sent.html).toContain('Check your inbox');
  const mails = await smtp.waitFor(before + 1, { to: user.email, subject: RESET_SUBJECT });
  return { login, mail: mails.at(-1) as ReceivedMail };
}

async function openResetPage(browser: Browser, mail: ReceivedMail): Promise<Page> {
  return browser.navigate(linkIn(mail));
}

describe('password reset', () => {
  it('mails a link through SMTP, sets the new password, ends every session and token, and continues the sign-in', async () => {
    const user = await createUser(running);
    const before = await signIn(app, user);
    expect(before.tokens.refresh_token).toBeDefined();

    const browser = new Browser();
    const { mail } = await askForReset(browser, user);
    expect(mail.from).toBe('no-reply@example.com');
    expect(mail.messageId).toMatch(/^<[0-9a-f-]{36}@127\.0\.0\.1>$/);
    // Exactly one link in the text part, and it is Latch's.
    expect(mail.text.match(/https?:\/\/\S+/g)).toHaveLength(1);
    expect(linkIn(mail).origin).toBe(running.baseUrl);
    expect(mail.html).toContain('Choose a new password');

    const page = await openResetPage(browser, mail);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<label for="email">Email<\/label>/);
    expect(page.html).toMatch(/<label for="newPassword">New password<\/label>/);
    const signInAgain = await browser.submit(page, { email: user.email, newPassword: NEW_PASSWORD }, { button: 'Set the new password', stopAt: atRedirect });
    // Back at the interrupted sign-in, which goes on to the app with the new password.
    expect(signInAgain.url.pathname).toMatch(/^\/interaction\//);
    expect(signInAgain.html).toContain('Your password has been changed');
    const callback = await browser.submit(signInAgain, { email: user.email, password: NEW_PASSWORD }, { button: 'Sign in', stopAt: atRedirect });
    expect(atRedirect(callback.url)).toBe(true);
    expect(callback.url.searchParams.get('code')).toBeTruthy();

    // Every session, grant and token from before is gone; the old refresh token no longer works.
    await expect(oidc.refreshTokenGrant(app, before.tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(signIn(app, user)).rejects.toThrow();
    const after = await signIn(app, { email: user.email, password: NEW_PASSWORD });
    expect(after.tokens.access_token).toBeDefined();

    const [notice] = await smtp.waitFor(1, { to: user.email, subject: /password was changed/ });
    expect(notice?.text).toContain('was just reset');
    expect(notice?.text.match(/https?:\/\/\S+/g)).toHaveLength(1);
  });

  it('refuses a link used once already', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    const { mail } = await askForReset(browser, user);
    const page = await openResetPage(browser, mail);
    await browser.submit(page, { email: user.email, newPassword: NEW_PASSWORD }, { button: 'Set the new password', stopAt: atRedirect });

    const again = await openResetPage(browser, mail);
    expect(again.status).toBe(400);
    expect(again.html).toContain('This link no longer works');
    const replay = await browser.submit(page, { email: user.email, newPassword: 'yet another fine passphrase' }, { button: 'Set the new password', stopAt: atRedirect });
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('This link no longer works');
  });

  it('refuses an expired link, and one replaced by a newer one', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    const first = (await askForReset(browser, user)).mail;
    const second = (await askForReset(browser, user)).mail;

    expect((await openResetPage(browser, first)).status).toBe(400);
    skewMs = 31 * 60_000;
    const expired = await openResetPage(browser, second);
    expect(expired.status).toBe(400);
    expect(expired.html).toContain('This link no longer works');

    // The next link issued, to anybody, sweeps the expired one away.
    await askForReset(new Browser(), await createUser(running));
    expect(await query(running.databaseUrl, "SELECT 1 FROM account_tokens WHERE user_id = $1 AND purpose = 'password_reset'", [user.id])).toEqual([]);
  });

  it('refuses a forged link', async () => {
    const browser = new Browser();
    for (const token of [randomBytes(32).toString('base64url'), 'not-a-token', '']) {
      const page = await browser.navigate(new URL(`/self-service/reset-password?token=${encodeURIComponent(token)}`, running.baseUrl));
      expect(page.status).toBe(400);
      expect(page.html).toContain('This link no longer works');
    }
  });

  it("refuses another account's address and a weak password, and the link still works afterwards", async () => {
    const user = await createUser(running);
    const other = await createUser(running);
    const browser = new Browser();
    const { mail } = await askForReset(browser, user);
    const page = await openResetPage(browser, mail);

    const wrongAccount = await browser.submit(page, { email: other.email, newPassword: NEW_PASSWORD }, { button: 'Set the new password', stopAt: atRedirect });
    expect(wrongAccount.status).toBe(400);
    expect(wrongAccount.html).toContain('This link is for another account');
    const weak = await browser.submit(page, { email: user.email, newPassword: 'password' }, { button: 'Set the new password', stopAt: atRedirect });
    expect(weak.status).toBe(400);
    expect(weak.html).toMatch(/aria-invalid="true" aria-describedby="newPassword-error"/);

    // Neither attempt changed a password.
    await expect(signIn(app, other)).resolves.toBeDefined();
    const done = await browser.submit(page, { email: user.email, newPassword: NEW_PASSWORD }, { button: 'Set the new password', stopAt: atRedirect });
    expect(done.html).toContain('Your password has been changed');
  });

  it('answers alike, in status, body and time, whether or not an account has the address', async () => {
    const user = await createUser(running);
    const reset = (email: string) => running.http().post('/api/v1/password-resets').send({ email });

    const known = await reset(user.email);
    const unknown = await reset(`nobody-${randomBytes(6).toString('hex')}@example.com`);
    expect(known.status).toBe(202);
    expect([unknown.status, unknown.text, unknown.headers['content-type']]).toEqual([known.status, known.text, known.headers['content-type']]);

    const knownMs = await medianMilliseconds(() => reset(user.email));
    const unknownMs = await medianMilliseconds(() => reset(`nobody-${randomBytes(6).toString('hex')}@example.com`));
    expect(unknownMs / knownMs).toBeGreaterThan(0.8);
    expect(unknownMs / knownMs).toBeLessThan(1.25);
  });

  it('answers alike on the page too', async () => {
    const user = await createUser(running);
    const sent = async (email: string) => {
      const browser = new Browser();
      const form = await browser.navigate(new URL('/self-service/forgot-password', running.baseUrl));
      const page = await browser.submit(form, { email }, { button: 'Send me a link' });
      return [page.status, page.html.replace(/nonce="[^"]*"/g, '')];
    };
    expect(await sent(`nobody-${randomBytes(6).toString('hex')}@example.com`)).toEqual(await sent(user.email));
  });

  it('leaves no session, grant or token of the account in the store', async () => {
    const user = await createUser(running);
    await signIn(app, user);
    const rows = () => query<{ count: string }>(running.databaseUrl, 'SELECT count(*) FROM oidc_payloads WHERE account_id = $1', [user.id]);
    expect(Number((await rows())[0]?.count)).toBeGreaterThan(0);

    const browser = new Browser();
    const { mail } = await askForReset(browser, user);
    await browser.submit(await openResetPage(browser, mail), { email: user.email, newPassword: NEW_PASSWORD }, { button: 'Set the new password', stopAt: atRedirect });
    expect(Number((await rows())[0]?.count)).toBe(0);
    const stored = await query<{ token_hash: string }>(running.databaseUrl, "SELECT token_hash FROM account_tokens WHERE user_id = $1 AND purpose = 'password_reset'", [user.id]);
    expect(stored).toEqual([]);
  });

  it('keeps only a hash of the link in the database', async () => {
    const user = await createUser(running);
    const { mail } = await askForReset(new Browser(), user);
    const token = linkIn(mail).searchParams.get('token') as string;
    const stored = await query<{ token_hash: string }>(running.databaseUrl, "SELECT token_hash FROM account_tokens WHERE user_id = $1 AND purpose = 'password_reset'", [user.id]);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.token_hash).not.toContain(token);
    expect(JSON.stringify(await query(running.databaseUrl, 'SELECT * FROM account_tokens'))).not.toContain(token);
  });
});
