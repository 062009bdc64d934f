import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { Browser, formOf, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser } from '../support/sign-in.js';
import { linkIn, startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';
import { SoftwareAuthenticator } from '../support/software-authenticator.js';
import { query } from '../support/sql.js';
import { atRedirect, Authorization, PASSWORD, signInForm, testClient, uniqueEmail, type TestClient } from './support.js';

const VERIFY_SUBJECT = /^Verify your email address/;
const MAILS_PER_HOUR = 3;

// Latch's clock, moved by the expiry test.
let skewMs = 0;
let smtp: TestSmtpServer;
let running: RunningLatch;
let client: TestClient;

beforeAll(async () => {
  smtp = await startSmtpServer();
  running = await startLatch({ REQUIRE_EMAIL_VERIFICATION: 'true', SMTP_URL: smtp.url, ACCOUNT_MAILS_PER_HOUR: String(MAILS_PER_HOUR) }, { now: () => new Date(Date.now() + skewMs) });
  client = await testClient(running);
});

afterAll(async () => {
  await running?.stop();
  await smtp?.stop();
});

afterEach(() => {
  skewMs = 0;
});

const verificationMails = (email: string, count: number) => smtp.waitFor(count, { to: email, subject: VERIFY_SUBJECT });

/** Opens a mailed verification link and presses its button, as its reader does. */
async function follow(browser: Browser, link: URL): Promise<Page> {
  const page = await browser.navigate(link);
  expect(page.status).toBe(200);
  return browser.submit(page, {}, { button: 'Verify my email address', stopAt: atRedirect });
}

async function unverifiedSignIn(email: string): Promise<{ browser: Browser; inbox: Page }> {
  const browser = new Browser();
  const login = await (await Authorization.start(client)).open(browser);
  const inbox = await signInForm(login, email, PASSWORD, browser);
  return { browser, inbox };
}

describe('with REQUIRE_EMAIL_VERIFICATION', () => {
  it('stops an unverified sign-in at "check your inbox", and the mailed link continues it to the client', async () => {
    const email = uniqueEmail();
    await running.latch.accounts.register({ email, password: PASSWORD });
    const { browser, inbox } = await unverifiedSignIn(email);
    expect(inbox.status).toBe(403);
    expect(inbox.html).toContain('Check your inbox');
    expect(inbox.html).toContain('Verify your email address before signing in');

    const resent = await browser.submit(inbox, {}, { button: 'Send a new link' });
    expect(resent.status).toBe(200);
    const [mail] = await verificationMails(email, 1);
    expect(mail?.text.match(/https?:\/\/\S+/g)).toHaveLength(1);

    const consent = await follow(browser, linkIn(mail as never));
    expect(consent.html).toContain('would like to:');
    expect((await query<{ email_verified: boolean }>(running.databaseUrl, 'SELECT email_verified FROM users WHERE email = $1', [email]))[0]?.email_verified).toBe(true);
  });

  it('mails a link at registration, and continues the sign-in once it is followed', async () => {
    const email = uniqueEmail();
    const browser = new Browser();
    const login = await (await Authorization.start(client)).open(browser);
    const form = await browser.navigate(new URL(/href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string, running.baseUrl));

    const page = await browser.submit(form, { email, password: PASSWORD }, { button: 'Create account', stopAt: atRedirect });
    expect(page.status).toBe(200);
    expect(page.html).toContain('Check your inbox');
    expect(await query(running.databaseUrl, 'SELECT 1 FROM users WHERE email = $1 AND NOT email_verified', [email])).toHaveLength(1);

    const [mail] = await verificationMails(email, 1);
    const consent = await follow(browser, linkIn(mail as never));
    expect(consent.html).toContain('would like to:');
  });

  it('verifies in another browser too, which then says to sign in; the waiting one continues once signed in', async () => {
    const user = await createUser(running);
    const [mail] = await verificationMails(user.email, 1);
    const elsewhere = await follow(new Browser(), linkIn(mail as never));
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.html).toContain('Your email address is verified');

    const { browser, inbox } = await unverifiedSignIn(user.email);
    expect(inbox.html).toContain('would like to:');
    expect(browser).toBeDefined();
  });

  it('does not tell a wrong password apart from an unverified account', async () => {
    const email = uniqueEmail();
    await running.latch.accounts.register({ email, password: PASSWORD });
    const browser = new Browser();
    const login = await (await Authorization.start(client)).open(browser);

    const wrong = await signInForm(login, email, 'not the password at all', browser);
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('Email or password is incorrect.');
    expect(wrong.html).not.toContain('Check your inbox');
  });

  it('refuses a reused, a replaced, an expired and a forged link', async () => {
    const user = await createUser(running);
    const [first] = await verificationMails(user.email, 1);
    const { browser, inbox } = await unverifiedSignIn(user.email);
    await browser.submit(inbox, {}, { button: 'Send a new link' });
    const [, second] = await verificationMails(user.email, 2);

    const replaced = await follow(new Browser(), linkIn(first as never));
    expect(replaced.status).toBe(400);
    expect(replaced.html).toContain('This link no longer works');

    skewMs = 25 * 3600_000;
    expect((await follow(new Browser(), linkIn(second as never))).status).toBe(400);
    skewMs = 0;

    const forged = new URL(linkIn(second as never));
    forged.searchParams.set('token', randomBytes(32).toString('base64url'));
    expect((await follow(new Browser(), forged)).status).toBe(400);

    expect((await follow(browser, linkIn(second as never))).html).toContain('would like to:');
    const reused = await follow(browser, linkIn(second as never));
    expect(reused.status).toBe(400);
  });

  it("continues a waiting sign-in only for its own account, not for another's link", async () => {
    const waiting = uniqueEmail();
    await running.latch.accounts.register({ email: waiting, password: PASSWORD });
    const { browser, inbox } = await unverifiedSignIn(waiting);
    const uid = /\/interaction\/([^/"]+)\/verify-email/.exec(inbox.html)?.[1] as string;

    const other = await createUser(running);
    const [mail] = await verificationMails(other.email, 1);
    await follow(browser, linkIn(mail as never));

    const resumed = await browser.navigate(new URL(`/interaction/${uid}/verified`, running.baseUrl), { stopAt: atRedirect });
    expect(resumed.html).toMatch(/<input[^>]+name="password"/);
    expect(resumed.html).not.toContain('would like to:');
  });

  it('limits new links per account', async () => {
    const user = await createUser(running);
    const { browser, inbox } = await unverifiedSignIn(user.email);
    let page = inbox;
    const statuses: number[] = [];
    // The registration mail was the first of the hour.
    for (let attempt = 0; attempt < MAILS_PER_HOUR; attempt += 1) {
      page = await browser.submit(inbox, {}, { button: 'Send a new link' });
      statuses.push(page.status);
    }
    expect(statuses).toEqual([...Array<number>(MAILS_PER_HOUR - 1).fill(200), 429]);
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('with a second factor', () => {
  it('continues a waiting passkey sign-in as the passkey sign-in it was: the ID token says hwk and user, not pwd', async () => {
    const email = uniqueEmail();
    const user = await running.latch.accounts.register({ email, password: PASSWORD });
    const authenticator = new SoftwareAuthenticator();
    const ceremony = { purpose: 'register' as const, sessionUid: `test-${user.id}` };
    const creation = await running.latch.passkeys.registrationOptions(user, ceremony);
    await running.latch.passkeys.register(user, ceremony, JSON.stringify(authenticator.create(creation, { origin: running.baseUrl })), 'Laptop');

    const browser = new Browser();
    const authorization = await Authorization.start(client);
    const login = await authorization.open(browser);
    const optionsPath = /data-options="([^"]+)"/.exec(login.html)?.[1] ?? '';
    const answer = await browser.navigate(new URL(optionsPath, running.baseUrl), { method: 'POST', body: new URLSearchParams({ csrf: formOf(login, 'Sign in with a passkey').fields.csrf ?? '' }) });
    const options = JSON.parse(answer.html) as PublicKeyCredentialRequestOptionsJSON;
    const inbox = await browser.submit(login, { response: JSON.stringify(authenticator.get(options, { origin: running.baseUrl })) }, { button: 'Sign in with a passkey' });
    expect(inbox.html).toContain('Check your inbox');

    await browser.submit(inbox, {}, { button: 'Send a new link' });
    const [mail] = await verificationMails(email, 1);
    const consent = await follow(browser, linkIn(mail as never));
    const callback = await browser.submit(consent, {}, { button: 'Continue', stopAt: atRedirect });
    const tokens = await authorization.redeem(callback.url);
    expect(tokens.claims()?.amr).toEqual(['hwk', 'user']);
  });

  it('the followed link continues to the second factor, not past it', async () => {
    const email = uniqueEmail();
    const user = await running.latch.accounts.register({ email, password: PASSWORD });
    const enrolment = await running.latch.factors.startTotp(user);
    await running.latch.factors.confirmTotp(user.id, enrolment.factorId, new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate());

    const { browser, inbox } = await unverifiedSignIn(email);
    await browser.submit(inbox, {}, { button: 'Send a new link' });
    const [mail] = await verificationMails(email, 1);
    const next = await follow(browser, linkIn(mail as never));
    expect(atRedirect(next.url)).toBe(false);
    expect(next.html).toContain('<label for="code">Authentication code</label>');
  });
});
