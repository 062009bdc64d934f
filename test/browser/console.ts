import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { findFreePort } from '../support/free-port.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser } from '../support/sign-in.js';
import { startTestServer, stopTestServer } from '../support/test-server.js';
import { prepareExampleApp, startExampleApp, tail, type Started, type Track } from './nextjs-app.js';

/**
 * The admin console in headless Chromium, as the first administrator meets it: signs in through
 * Latch (setting up the authenticator app the console requires), registers a Next.js app with the
 * wizard, and, once examples/nextjs started with the wizard's .env.local lines has signed a user
 * in, finds that user (search as you type), sees the sign-in in the audit trail, disables the user
 * (the app's next refresh fails, and it shows the user signed out) and enables them again, after
 * which they sign in through the app once more; then, by keyboard, the admin registers an API,
 * makes a role granting its permission and assigns it to the user. The admin and the user each have a browser
 * context of their own, as they would have a browser each. axe-core runs on every console page
 * the story visits and must find nothing; every page, the app's too, gets a screenshot in
 * test-results/browser-console/.
 *
 * A script, not a jest suite: one story whose steps each need the one before. The example app's
 * build is test/browser/nextjs.ts's when that ran first with the same sources (nextjs-app.ts).
 */

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const screenshots = join(projectRoot, 'test-results', 'browser-console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** Short, so that the app's access token has expired when the user comes back after being disabled. */
const ACCESS_TOKEN_TTL = 5;

const print = (line: string) => process.stdout.write(`${line}\n`);
const cleanups: (() => Promise<unknown>)[] = [];
const track: Track = (_name, stop) => cleanups.unshift(stop);
let failed = false;
let passed = 0;
/** The page the story is on (the admin's or the user's), for the failure's screenshot. */
let page: Page | undefined;
let app: Started | undefined;

async function step(name: string, run: () => Promise<void>): Promise<void> {
  if (failed) {
    print(`  - ${name} (skipped)`);
    return;
  }
  const started = Date.now();
  try {
    await run();
    passed += 1;
    print(`  ✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (error) {
    failed = true;
    print(`  ✗ ${name}\n${String(error instanceof Error ? error.stack : error).replace(/^/gm, '      ')}`);
    if (page) {
      print(`      page: ${page.url()}`);
      await page.screenshot({ path: join(screenshots, 'failure.png'), fullPage: true }).catch(() => undefined);
    }
    if (app) print(`      the app's log, last lines:\n${tail(app.output(), 25).replace(/^/gm, '        ')}`);
  }
}

let shot = 0;
/** A screenshot of the page the story is on. */
async function screenshot(name: string): Promise<void> {
  if (!page) throw new Error('no page');
  shot += 1;
  const path = join(screenshots, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  print(`      screenshot: ${path}`);
}

/** A screenshot of a console page, and axe-core's verdict on it: any violation fails the step. */
async function checkPage(name: string): Promise<void> {
  if (!page) throw new Error('no page');
  await screenshot(name);
  // Evaluated through the DevTools protocol, which the page's CSP does not govern: the page itself admits no such script.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const { violations } = await (globalThis as unknown as { axe: { run: () => Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
    return violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
  });
  if (violations.length > 0) throw new Error(`axe-core on ${name}:\n${violations.join('\n')}`);
}

async function main(): Promise<void> {
  print('Browser test: the admin console, in headless Chromium, with examples/nextjs');
  await rm(screenshots, { recursive: true, force: true });
  await mkdir(screenshots, { recursive: true });
  let running: RunningLatch | undefined;
  let browser: Browser | undefined;
  let adminPage: Page | undefined;
  let userPage: Page | undefined;
  const admin = { email: `grace-${Date.now()}@example.com`, password: 'correct horse battery staple', id: '' };
  // The app's address is what the wizard is told, and its redirect URI follows from it: chosen first.
  const appUrl = `http://127.0.0.1:${await findFreePort()}`;
  const appEnvironment: Record<string, string> = {};
  let user = { id: '', email: '', password: '' };
  /** When the app last had its tokens renewed or issued: its access token expires ACCESS_TOKEN_TTL after. */
  let tokensAt = 0;

  /** Today's sign-ins as the Overview's daily chart has them: its last bar, and the last row and total of its numbers. */
  const signInsToday = async () => {
    if (!page) throw new Error('no page');
    const bar = (await page.locator('svg[aria-labelledby="sign-ins-daily-title"] rect.bar-sign-ins').last().locator('title').textContent()) ?? '';
    const numbers = page.locator('details.numbers', { hasText: 'per day' }).locator('table');
    const row = Number(await numbers.locator('tbody tr').last().locator('td').nth(1).textContent());
    const total = Number(await numbers.locator('tfoot td').first().textContent());
    return { bar: Number(/sign-ins: (\d+)$/.exec(bar)?.[1]), row, total };
  };
  let signInsBefore = { bar: 0, row: 0, total: 0 };

  /** On the user's page: from the app's "Sign in with Latch" to its signed-in home page, as the user. */
  const signInThroughTheApp = async (name: string) => {
    if (!userPage) throw new Error('no page');
    page = userPage;
    await page.goto(appUrl);
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    await screenshot(`${name}-app-signed-out`);
    await page.getByRole('button', { name: 'Sign in with Latch' }).click();
    await page.waitForURL((url) => url.origin === running?.baseUrl && url.pathname.startsWith('/interaction/'));
    await page.getByLabel('Email', { exact: true }).fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await screenshot(`${name}-latch-sign-in`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // The wizard registers an app of one's own by default: Latch asks its users for no consent.
    await page.waitForURL((url) => url.origin === appUrl);
    await page.getByRole('heading', { name: 'Signed in' }).waitFor();
    await page.locator('dd', { hasText: user.email }).waitFor();
    tokensAt = Date.now();
    await screenshot(`${name}-app-signed-in`);
  };

  await step('Latch starts; the first admin is made, with the admin role', async () => {
    await startTestServer();
    cleanups.unshift(stopTestServer);
    running = await startLatch({ LOG_LEVEL: 'warn', ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL) });
    const latch = running;
    cleanups.unshift(() => latch.stop());
    const created = await createUser(latch, { email: admin.email, password: admin.password, name: 'Grace Hopper' });
    admin.id = created.id;
    await latch.latch.authorization.assignments.assign({ user: admin.id }, 'admin', 'admin');
  });

  await step('the admin signs in to /admin through Latch, sets up an authenticator app and lands on the overview', async () => {
    if (!running) throw new Error('no Latch');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const launched = browser;
    cleanups.unshift(() => launched.close());
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    context.setDefaultTimeout(20_000);
    adminPage = await context.newPage();
    page = adminPage;
    await page.goto(`${running.baseUrl}/admin`);
    await page.getByLabel('Email', { exact: true }).fill(admin.email);
    await page.getByLabel('Password', { exact: true }).fill(admin.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // The console's client requires a second factor: one the admin has not got is set up here, from the setup key.
    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    await checkPage('enrol-factor');
    const secret = (await page.locator('code.setup-key').textContent())?.trim() ?? '';
    await page.getByLabel('Authentication code').fill(new TOTP({ secret: Secret.fromBase32(secret) }).generate());
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'I have saved them: continue' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    signInsBefore = await signInsToday();
    await checkPage('overview');
  });

  /** Tabs until `target` has the focus (at most `limit` presses), as someone without a mouse would. */
  const tabTo = async (target: Locator, limit = 60) => {
    if (!page) throw new Error('no page');
    for (let n = 0; n < limit; n += 1) {
      await page.keyboard.press('Tab');
      if (await target.evaluate((element) => element === element.ownerDocument.activeElement)) return;
    }
    throw new Error(`${limit} presses of Tab never reached ${target.toString()}`);
  };

  await step("keyboard alone: a chart's numbers open, and the signing keys rotate through their confirmation page", async () => {
    if (!page) throw new Error('no page');
    const numbers = page.locator('summary').first();
    await tabTo(numbers);
    await page.keyboard.press('Enter');
    await page.getByRole('table').first().waitFor();
    await checkPage('overview-numbers');
    await tabTo(page.getByRole('link', { name: 'All signing keys, and rotation', exact: true }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
    await checkPage('keys');
    await tabTo(page.getByRole('link', { name: 'Rotate now…', exact: true }));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Rotate the signing keys?' }).waitFor();
    await checkPage('confirm-key-rotation');
    await tabTo(page.getByRole('button', { name: 'Rotate the signing keys', exact: true }));
    await page.keyboard.press('Enter');
    await page.getByText('New keys are published.').waitFor();
    await checkPage('keys-rotated');
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('heading', { name: 'Users', exact: true }).waitFor();
    await checkPage('users');
  });

  await step('keyboard alone: the skip link comes first and leads to the content', async () => {
    if (!adminPage) throw new Error('no page');
    page = adminPage;
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    if (!(await skip.evaluate((element) => element === element.ownerDocument.activeElement))) throw new Error('the first Tab does not reach the skip link');
    await page.keyboard.press('Enter');
    if (!(await page.locator('#main').evaluate((element) => element === element.ownerDocument.activeElement))) throw new Error('the skip link does not move focus to the content');
  });

  await step('the wizard registers a Next.js app from its address and shows its .env.local lines once', async () => {
    if (!adminPage || !running) throw new Error('no page');
    page = adminPage;
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('heading', { name: 'Applications' }).waitFor();
    await checkPage('applications');
    await page.getByRole('link', { name: 'Register an app' }).click();
    await checkPage('wizard-kind');
    await page.getByRole('link', { name: 'Next.js web app (NextAuth)' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Next.js shop');
    await page.getByLabel('The app’s address').fill(appUrl);
    await checkPage('wizard-nextjs');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: /Registered Next.js shop/ }).waitFor();
    const lines = ((await page.getByRole('region', { name: 'In .env.local' }).locator('pre').textContent()) ?? '').split('\n');
    for (const line of lines) {
      // NAME=value, then a comment after whitespace and #, as dotenv reads .env.local; or <what to write there>.
      const [, name, value] = /^([A-Z_]+)=(<[^>]*>|\S*)(?:\s+#.*)?$/.exec(line.trim()) ?? [];
      if (name && value !== undefined) appEnvironment[name] = value;
    }
    const expected = { AUTH_LATCH_ISSUER: running.baseUrl, NEXTAUTH_URL: appUrl };
    for (const [name, value] of Object.entries(expected)) if (appEnvironment[name] !== value) throw new Error(`the page says ${name}=${appEnvironment[name]}, expected ${value}:\n${lines.join('\n')}`);
    if (!appEnvironment.AUTH_LATCH_ID || !appEnvironment.AUTH_LATCH_SECRET || !appEnvironment.AUTH_SECRET) throw new Error(`the configuration is incomplete:\n${lines.join('\n')}`);
    // The one line the user writes themselves, as the page says: a random key of their own.
    if (appEnvironment.AUTH_SECRET !== '<openssl rand -base64 32>') throw new Error(`AUTH_SECRET is given as ${appEnvironment.AUTH_SECRET}, not as the command that makes one`);
    appEnvironment.AUTH_SECRET = randomBytes(32).toString('base64');
    await checkPage('app-configuration');
    await page.getByRole('link', { name: 'Go to the app’s page' }).click();
    await page.getByRole('heading', { name: 'Next.js shop' }).waitFor();
    await checkPage('app');
  });

  await step('examples/nextjs installs and builds (or keeps the build of its unchanged sources)', async () => {
    print(`      ${(await prepareExampleApp({ track })).join('; ')}`);
  });

  await step('examples/nextjs starts (next start) with the lines the wizard showed', async () => {
    app = await startExampleApp({ appUrl, environment: appEnvironment, track });
  });

  await step('the app signs a user in through Latch, in a browser of their own', async () => {
    if (!running || !browser) throw new Error('no Latch');
    user = await createUser(running, { name: 'Ada Lovelace' });
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(20_000);
    userPage = await context.newPage();
    await signInThroughTheApp('user');
  });

  await step("the user's sign-in shows on the overview chart: today's bar, its row and the total count it", async () => {
    if (!adminPage) throw new Error('no page');
    page = adminPage;
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const after = await signInsToday();
    for (const [where, count] of Object.entries(after)) {
      const before = signInsBefore[where as keyof typeof after];
      if (count !== before + 1) throw new Error(`the chart's ${where} says ${count} sign-ins today, ${before} before the user's: ${JSON.stringify({ before: signInsBefore, after })}`);
    }
    await checkPage('overview-after-sign-in');
  });

  await step('the admin finds the user by typing, without submitting', async () => {
    if (!adminPage) throw new Error('no page');
    page = adminPage;
    await page.getByRole('link', { name: 'Users' }).click();
    // Every user is listed at first, the admin too: the list narrows as the name is typed, and the address follows.
    await page.locator('#results').getByRole('link', { name: admin.email }).waitFor();
    await page.getByLabel('Email or name').pressSequentially('Ada Love');
    await page.waitForURL((url) => url.searchParams.get('q') === 'Ada Love');
    await page.locator('#results').getByRole('link', { name: admin.email }).waitFor({ state: 'detached' });
    await page.locator('#results').getByRole('link', { name: user.email }).waitFor();
    await checkPage('users-search');
    await page.locator('#results').getByRole('link', { name: user.email }).click();
    await page.getByRole('heading', { name: user.email }).waitFor();
    await page.getByText('Next.js shop').first().waitFor();
    await checkPage('user');
  });

  await step('the sign-in is in the audit trail, with the app', async () => {
    if (!adminPage) throw new Error('no page');
    page = adminPage;
    await page.getByRole('link', { name: "All of this user's events" }).click();
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    await page.locator('tr', { hasText: 'interaction.signed_in' }).filter({ hasText: appEnvironment.AUTH_LATCH_ID ?? '' }).first().waitFor();
    await checkPage('audit');
  });

  await step('the admin disables the user', async () => {
    if (!adminPage || !running) throw new Error('no page');
    page = adminPage;
    await page.goto(`${running.baseUrl}/admin/users/${user.id}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('The user is disabled').waitFor();
    await checkPage('user-disabled');
  });

  await step("the app's next refresh fails, and it shows the user signed out", async () => {
    if (!userPage) throw new Error('no page');
    page = userPage;
    // The app renews its access token only once it has expired: until then it would not ask Latch.
    await delay(Math.max(0, tokensAt + (ACCESS_TOKEN_TTL + 1) * 1000 - Date.now()));
    const logged = app?.output().length ?? 0;
    await page.goto(appUrl);
    await page.getByRole('heading', { name: 'Signed out' }).waitFor();
    if (!app?.output().slice(logged).includes('Latch did not renew the tokens')) throw new Error('the app did not try, and fail, to renew its tokens');
    await screenshot('user-app-refresh-failed');
  });

  await step('the admin enables the user again, who signs in through the app once more', async () => {
    if (!adminPage) throw new Error('no page');
    page = adminPage;
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('The user is enabled again').waitFor();
    await checkPage('user-enabled');
    await signInThroughTheApp('user-again');
  });

  await step('by keyboard alone, the admin registers an API with a permission, makes a role granting it and gives it to the user', async () => {
    if (!adminPage || !running) throw new Error('no page');
    page = adminPage;
    const typeInto = async (selector: string, text: string) => {
      await page?.locator(selector).focus();
      await page?.keyboard.type(text);
    };
    await page.getByRole('link', { name: 'Roles and APIs' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Roles and APIs' }).waitFor();
    await checkPage('roles');
    await typeInto('#api-identifier', 'https://orders.example.com');
    await page.keyboard.press('Tab');
    await page.keyboard.type('Orders');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Orders' }).waitFor();
    await typeInto('#permission-value', 'orders:read');
    await page.keyboard.press('Enter');
    await page.getByText('The permission has been added.').waitFor();
    await checkPage('api');

    await page.getByRole('link', { name: 'All roles and APIs' }).focus();
    await page.keyboard.press('Enter');
    // A name the services refuse: their words next to the form, and the focusable form again.
    await typeInto('#role-name', 'order readers');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').getByText('The name must be 1 to 64 letters').waitFor();
    await checkPage('roles-refused');
    await page.locator('#role-name').fill('');
    await typeInto('#role-name', 'order-reader');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'order-reader' }).waitFor();
    await page.locator('#permission').focus();
    await page.locator('#permission').selectOption({ label: 'orders:read' });
    await page.getByRole('button', { name: 'Grant' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Revoke orders:read' }).waitFor();
    await checkPage('role');

    await page.goto(`${running.baseUrl}/admin/users/${user.id}`);
    await page.locator('#assign-role').focus();
    await page.locator('#assign-role').selectOption('order-reader');
    await page.getByRole('button', { name: 'Assign role' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('The role has been assigned').waitFor();
    await page.getByRole('button', { name: 'Unassign order-reader' }).waitFor();
    await checkPage('user-roles');
    await page.goto(`${running.baseUrl}/admin/users?role=order-reader`);
    await page.locator('#results').getByRole('link', { name: user.email }).waitFor();
    await checkPage('users-by-role');
  });

  await step('the confirmation pages pass too', async () => {
    if (!adminPage || !running) throw new Error('no page');
    page = adminPage;
    await page.goto(`${running.baseUrl}/admin/users/${user.id}/delete`);
    await page.getByRole('heading', { name: `Delete ${user.email}?` }).waitFor();
    await checkPage('confirm-delete');
    await page.goto(`${running.baseUrl}/admin/apps/${appEnvironment.AUTH_LATCH_ID ?? ''}/rotate-secret`);
    await checkPage('confirm-rotate');
    await page.goto(`${running.baseUrl}/admin/roles/order-reader/delete`);
    await page.getByRole('heading', { name: 'Delete the role order-reader?' }).waitFor();
    await checkPage('confirm-delete-role');
  });

  print(`${passed} passed${failed ? ', 1 failed' : ''}; screenshots in ${screenshots}`);
}

/** Stops what the story started, newest first, once: the end of the run and an interruption await the same. */
let cleaning: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (let next = cleanups.shift(); next; next = cleanups.shift()) await next().catch((error: unknown) => print(`  ! cleanup failed: ${String(error)}`));
  })();
  return cleaning;
}

// The app runs in a process group of its own, which a terminal's Ctrl-C does not reach: it is stopped here.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    failed = true;
    print(`\n${signal}: stopping what the test started`);
    void cleanUp().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  failed = true;
  print(`browser test failed outside a step: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanUp();
}
process.exit(failed ? 1 : 0);
