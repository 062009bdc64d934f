import type * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { Browser, formOf, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, type TestUser } from '../support/sign-in.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';
import { query } from '../support/sql.js';
import { atRedirect, Authorization, signInForm, testClient, type TestClient } from './support.js';

const ACCOUNT_LIMIT = 4;
const MFA = 'urn:latch:acr:mfa';
const PWD = 'urn:latch:acr:pwd';

let running: RunningLatch;
let smtp: TestSmtpServer;
let client: TestClient;
/** Latch's clock: the real one unless a test sets it. */
let clock: number | undefined;

beforeAll(async () => {
  smtp = await startSmtpServer();
  running = await startLatch({ SMTP_URL: smtp.url, SIGNIN_MAX_FAILURES_PER_ACCOUNT: String(ACCOUNT_LIMIT) }, { now: () => new Date(clock ?? Date.now()) });
  client = await testClient(running, { first_party: true });
});

afterAll(async () => {
  await running.stop();
  await smtp.stop();
});

beforeEach(async () => {
  clock = undefined;
  await query(running.databaseUrl, 'DELETE FROM rate_limits');
});

const codeFor = (secret: string, at = Date.now()) => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at });
const secretOn = (page: Page) => {
  expect(page.html).toContain('Setup key');
  const secret = /<code class="setup-key">([A-Z2-7]+)<\/code>/.exec(page.html)?.[1];
  if (!secret) throw new Error(`no setup key on:\n${page.html}`);
  return secret;
};
const recoveryCodesOn = (page: Page) => [...page.html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((match) => match[1] as string);

/** Sets TOTP up on /account/security through the pages, as the user would: returns the secret shown and the recovery codes. */
async function enrolOnSecurityPage(user: TestUser): Promise<{ secret: string; recoveryCodes: string[] }> {
  const browser = new Browser();
  // Signed out, the page starts a sign-in, which comes back to /account.
  const signInPage = await browser.navigate(`${running.baseUrl}/account/security`);
  await browser.submit(signInPage, { email: user.email, password: user.password }, { button: 'Sign in' });
  let page = await browser.navigate(`${running.baseUrl}/account/security`);
  expect(page.html).toContain('<h1>Security</h1>');
  page = await browser.submit(page, {}, { button: 'Add an authenticator app' });
  expect(page.headers.get('cache-control')).toBe('no-store');
  expect(page.html).toMatch(/<figure class="qr"[^>]*><svg /);
  const secret = secretOn(page);
  // A wrong first code confirms nothing.
  const wrong = await browser.submit(page, { code: '000000' === codeFor(secret) ? '111111' : '000000' }, { button: 'Turn on' });
  expect(wrong.status).toBe(400);
  page = await browser.submit(wrong, { code: codeFor(secret) }, { button: 'Turn on' });
  expect(page.html).toContain('<h1>Your recovery codes</h1>');
  const recoveryCodes = recoveryCodesOn(page);
  page = await browser.submit(page, {}, { button: 'I have saved them' });
  expect(page.html).toContain('Authenticator app');
  expect(page.html).toContain('10 of 10 unused');
  return { secret, recoveryCodes };
}

/** A user with TOTP set up through the service (the pages are tested once, above), and its secret. */
async function userWithTotp(): Promise<TestUser & { secret: string; recoveryCodes: string[] }> {
  const user = await createUser(running);
  const { factors } = running.latch;
  const enrolment = await factors.startTotp(user);
  // The code is for 30 s ago: the sign-in's own code, of this step, is then not "already used".
  const confirmation = await factors.confirmTotp(user.id, enrolment.factorId, codeFor(enrolment.secret, Date.now() - 30_000));
  if (!confirmation.confirmed || !confirmation.recoveryCodes) throw new Error('enrolment was not confirmed');
  return { ...user, secret: enrolment.secret, recoveryCodes: confirmation.recoveryCodes };
}

/** The password step of a fresh authorization: the page it leads to. */
async function passwordStep(user: TestUser, params: Record<string, string> = {}, browser = new Browser()) {
  const authorization = await Authorization.start(client, params);
  const login = await authorization.open(browser);
  const page = await signInForm(login, user.email, user.password, browser);
  return { authorization, browser, page };
}

const submitCode = (browser: Browser, page: Page, code: string) => browser.submit(page, { code }, { button: 'Verify', stopAt: atRedirect });
const submitRecoveryCode = (browser: Browser, page: Page, code: string) => browser.submit(page, { recovery_code: code }, { button: 'Use recovery code', stopAt: atRedirect });

async function idTokenClaims(authorization: Authorization, page: Page) {
  expect(atRedirect(page.url)).toBe(true);
  const tokens = await authorization.redeem(page.url);
  return tokens.claims() as oidc.IDToken & { amr?: string[] };
}

const auditEvents = (userId: string, event: string) => query(running.databaseUrl, 'SELECT details FROM audit_events WHERE subject_id = $1 AND event = $2', [userId, event]);

describe('TOTP enrolment on /account/security', () => {
  it('shows a QR code and the setup key, counts once a first code confirms it, and shows ten recovery codes', async () => {
    const user = await createUser(running);
    const { secret, recoveryCodes } = await enrolOnSecurityPage(user);
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);

    // The secret is encrypted at rest, the codes hashed.
    const [factor] = await query<{ encrypted_secret: string; confirmed_at: Date | null }>(running.databaseUrl, 'SELECT encrypted_secret, confirmed_at FROM user_factors WHERE user_id = $1', [user.id]);
    expect(factor?.confirmed_at).not.toBeNull();
    expect(factor?.encrypted_secret).not.toContain(secret);
    const stored = await query<{ code_hash: string }>(running.databaseUrl, 'SELECT code_hash FROM recovery_codes WHERE user_id = $1', [user.id]);
    expect(stored).toHaveLength(10);
    expect(stored.map((row) => row.code_hash)).not.toContain(recoveryCodes[0]);
    expect(await auditEvents(user.id, 'factor.enrolled')).toHaveLength(1);

    // And the next sign-in asks for it.
    const { browser, page, authorization } = await passwordStep(user);
    expect(page.html).toContain('Authentication code');
    const claims = await idTokenClaims(authorization, await submitCode(browser, page, codeFor(secret, Date.now() + 30_000)));
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
  });

  it('an unconfirmed enrolment asks nothing at sign-in', async () => {
    const user = await createUser(running);
    await running.latch.factors.startTotp(user);
    const { page, authorization } = await passwordStep(user);
    const claims = await idTokenClaims(authorization, page);
    expect(claims.amr).toEqual(['pwd']);
    expect(claims.acr).toBe(PWD);
  });
});

describe('removing a factor on /account/security', () => {
  it('needs the page\'s own form, and then sign-in asks for the password alone', async () => {
    const user = await userWithTotp();
    const browser = new Browser();
    const signInPage = await browser.navigate(`${running.baseUrl}/account/security`);
    const codePage = await browser.submit(signInPage, { email: user.email, password: user.password }, { button: 'Sign in' });
    await browser.submit(codePage, { code: codeFor(user.secret) }, { button: 'Verify' });
    const security = await browser.navigate(`${running.baseUrl}/account/security`);
    expect(security.html).toContain('10 of 10 unused');

    const { factor } = formOf(security, 'Remove').fields;
    const forged = await browser.navigate(`${running.baseUrl}/account/security/factors/remove`, { method: 'POST', body: new URLSearchParams({ factor: factor ?? '' }) });
    expect(forged.status).toBe(403);
    expect(await running.latch.factors.hasSecondFactor(user.id)).toBe(true);

    const removed = await browser.submit(security, {}, { button: 'Remove' });
    expect(removed.html).toContain('The factor has been removed.');
    expect(await running.latch.factors.unusedRecoveryCodes(user.id)).toBe(0);
    const { page, authorization } = await passwordStep(user);
    expect((await idTokenClaims(authorization, page)).amr).toEqual(['pwd']);
  });
});

describe('signing in with TOTP', () => {
  it('asks for the code on its own page after the password, and the ID token says how the user signed in', async () => {
    const user = await userWithTotp();
    const { browser, page, authorization } = await passwordStep(user);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<label for="code">Authentication code</label>');
    expect(page.html).not.toMatch(/remember/i);
    const claims = await idTokenClaims(authorization, await submitCode(browser, page, codeFor(user.secret)));
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe(MFA);
    expect(await auditEvents(user.id, 'interaction.second_factor_succeeded')).toHaveLength(1);
  });

  it('refuses a wrong code and a replayed one', async () => {
    const user = await userWithTotp();
    const first = await passwordStep(user);
    const wrong = await submitCode(first.browser, first.page, codeFor(user.secret, Date.now() - 5 * 60_000));
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('That code is not right');
    expect(await auditEvents(user.id, 'interaction.second_factor_failed')).toHaveLength(1);

    const code = codeFor(user.secret);
    await idTokenClaims(first.authorization, await submitCode(first.browser, wrong, code));
    const second = await passwordStep(user);
    const replayed = await submitCode(second.browser, second.page, code);
    expect(replayed.status).toBe(401);
  });

  it('accepts a code one step off either way, and not two', async () => {
    const user = await userWithTotp();
    /** Signs in with the code of time `at` while Latch's clock reads `at + offset`. */
    const signInWithClockOff = async (at: number, offset: number) => {
      const { browser, page } = await passwordStep(user);
      clock = at + offset;
      const answer = await submitCode(browser, page, codeFor(user.secret, at));
      clock = undefined;
      return atRedirect(answer.url);
    };
    // Well after the steps used at enrolment, and each accepted code of a later step than the one before.
    const T = Date.now() + 10 * 60_000;
    expect(await signInWithClockOff(T, -60_000)).toBe(false);
    expect(await signInWithClockOff(T, +60_000)).toBe(false);
    expect(await signInWithClockOff(T, -30_000)).toBe(true);
    expect(await signInWithClockOff(T + 5 * 60_000, +30_000)).toBe(true);
  });

  it('locks the code step out after too many wrong codes, for the account and not the browser', async () => {
    const user = await userWithTotp();
    const { browser, page } = await passwordStep(user);
    let answer = page;
    for (let attempt = 0; attempt < ACCOUNT_LIMIT; attempt += 1) {
      answer = await submitCode(browser, answer, '000000' === codeFor(user.secret) ? '111111' : '000000');
      expect(answer.status).toBe(401);
    }
    answer = await submitCode(browser, answer, codeFor(user.secret));
    expect(answer.status).toBe(429);
    expect(answer.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(answer.html).toContain('Too many wrong codes');
    expect(await auditEvents(user.id, 'interaction.second_factor_locked_out')).toHaveLength(1);

    const elsewhere = await passwordStep(user);
    expect((await submitCode(elsewhere.browser, elsewhere.page, codeFor(user.secret))).status).toBe(429);
  });

  it('keeps the pending step in the interaction: the return URL before the second factor signs no one in', async () => {
    const user = await userWithTotp();
    const { browser, page } = await passwordStep(user);
    expect(page.html).toContain('Authentication code');
    const uid = /\/interaction\/([^/"]+)\/second-factor/.exec(page.html)?.[1];
    const resumed = await browser.navigate(`${running.baseUrl}/auth/${uid}`, { stopAt: atRedirect });
    expect(atRedirect(resumed.url)).toBe(false);
    expect(resumed.html).toContain('name="password"');
  });
});

describe('recovery codes', () => {
  it('sign in once each, are audited and mailed as a notice', async () => {
    const user = await userWithTotp();
    const [code] = user.recoveryCodes;
    const first = await passwordStep(user);
    const claims = await idTokenClaims(first.authorization, await submitRecoveryCode(first.browser, first.page, (code as string).toUpperCase()));
    expect(claims.amr).toEqual(['pwd', 'otp', 'mfa']);
    expect(claims.acr).toBe(MFA);

    const again = await passwordStep(user);
    const refused = await submitRecoveryCode(again.browser, again.page, code as string);
    expect(refused.status).toBe(401);

    const [mail] = await smtp.waitFor(1, { to: user.email, subject: /recovery code/ });
    expect(mail?.text).toContain('9 unused codes are left');
    expect(mail?.text).toContain(`${running.baseUrl}/account/security`);
    expect(mail?.text).not.toContain(code);
    expect(await auditEvents(user.id, 'interaction.recovery_code_used')).toHaveLength(1);
  });

  it('new ones void the old ones', async () => {
    const user = await userWithTotp();
    const fresh = await running.latch.factors.regenerateRecoveryCodes(user.id);
    const old = await passwordStep(user);
    expect((await submitRecoveryCode(old.browser, old.page, user.recoveryCodes[1] as string)).status).toBe(401);
    const next = await passwordStep(user);
    expect(atRedirect((await submitRecoveryCode(next.browser, next.page, fresh[0] as string)).url)).toBe(true);
  });
});
