import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Secret, TOTP } from 'otpauth';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';
import { startTestServer, stopTestServer } from '../support/test-server.js';

/**
 * The admin console in headless Chromium, as the first administrator meets it: signs in through
 * Latch (setting up the authenticator app the console requires), registers a Next.js app with the wizard, and, once an app configured from the wizard's
 * lines has signed a user in, finds that user (search as you type), sees the sign-in in the audit
 * trail, disables the user (the app's next refresh fails) and enables them again, then, by keyboard,
 * registers an API, makes a role granting its permission and assigns it to the user. axe-core runs
 * on every console page the story visits and must find nothing; each gets a screenshot in
 * test-results/browser-console/.
 *
 * The app is openid-client with the very issuer, client id, secret and callback the wizard
 * printed (test/browser/nextjs.ts shows NextAuth itself working from the same lines).
 * A script, not a jest suite: one story whose steps each need the one before.
 */

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const screenshots = join(projectRoot, 'test-results', 'browser-console');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const APP_URL = 'http://127.0.0.1:3999';

const print = (line: string) => process.stdout.write(`${line}\n`);
const cleanups: (() => Promise<unknown>)[] = [];
let failed = false;
let passed = 0;
let page: Page | undefined;

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
  }
}

let shot = 0;
/** A screenshot, and axe-core's verdict on the page: any violation fails the step. */
async function checkPage(name: string): Promise<void> {
  if (!page) throw new Error('no page');
  shot += 1;
  const path = join(screenshots, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  print(`      screenshot: ${path}`);
  // Evaluated through the DevTools protocol, which the page's CSP does not govern: the page itself admits no such script.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const { violations } = await (globalThis as unknown as { axe: { run: () => Promise<{ violations: { id: string; help: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
    return violations.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(' ')).join(', ')})`);
  });
  if (violations.length > 0) throw new Error(`axe-core on ${name}:\n${violations.join('\n')}`);
}

async function main(): Promise<void> {
  print('Browser test: the admin console, in headless Chromium');
  await rm(screenshots, { recursive: true, force: true });
  await mkdir(screenshots, { recursive: true });
  let running: RunningLatch | undefined;
  let context: BrowserContext | undefined;
  const admin = { email: `grace-${Date.now()}@example.com`, password: 'correct horse battery staple', id: '' };
  const app = { id: '', secret: '' };
  let user = { id: '', email: '', password: '' };
  let refreshToken = '';

  await step('Latch starts; the first admin is made, with the admin role', async () => {
    await startTestServer();
    cleanups.unshift(stopTestServer);
    running = await startLatch({ LOG_LEVEL: 'warn' });
    const latch = running;
    cleanups.unshift(() => latch.stop());
    const created = await createUser(latch, { email: admin.email, password: admin.password, name: 'Grace Hopper' });
    admin.id = created.id;
    await latch.latch.authorization.assignments.assign({ user: admin.id }, 'admin', 'admin');
  });

  await step('the admin signs in to /admin through Latch, sets up an authenticator app and lands on the overview', async () => {
    if (!running) throw new Error('no Latch');
    const profile = await mkdtemp(join(tmpdir(), 'latch-console-chromium-'));
    cleanups.unshift(() => rm(profile, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 800 },
    });
    const browser = context;
    cleanups.unshift(() => browser.close());
    context.setDefaultTimeout(20_000);
    page = context.pages()[0] ?? (await context.newPage());
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
    if (!page) throw new Error('no page');
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to content' });
    if (!(await skip.evaluate((element) => element === element.ownerDocument.activeElement))) throw new Error('the first Tab does not reach the skip link');
    await page.keyboard.press('Enter');
    if (!(await page.locator('#main').evaluate((element) => element === element.ownerDocument.activeElement))) throw new Error('the skip link does not move focus to the content');
  });

  await step('the wizard registers a Next.js app from its address and shows its configuration once', async () => {
    if (!page || !running) throw new Error('no page');
    await page.getByRole('link', { name: 'Applications' }).click();
    await page.getByRole('heading', { name: 'Applications' }).waitFor();
    await checkPage('applications');
    await page.getByRole('link', { name: 'Register an app' }).click();
    await checkPage('wizard-kind');
    await page.getByRole('link', { name: 'Next.js web app (NextAuth)' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Next.js shop');
    await page.getByLabel('The app’s address').fill(APP_URL);
    await checkPage('wizard-nextjs');
    await page.getByRole('button', { name: 'Register' }).click();
    await page.getByRole('heading', { name: /Registered Next.js shop/ }).waitFor();
    const env = (await page.locator('pre.copy').nth(1).textContent()) ?? '';
    app.id = /AUTH_LATCH_ID=(\S+)/.exec(env)?.[1] ?? '';
    app.secret = /AUTH_LATCH_SECRET=(\S+)/.exec(env)?.[1] ?? '';
    if (!app.id || !app.secret || !env.includes(`AUTH_LATCH_ISSUER=${running.baseUrl}`)) throw new Error(`the configuration is incomplete:\n${env}`);
    await checkPage('app-configuration');
    await page.getByRole('link', { name: 'Go to the app’s page' }).click();
    await page.getByRole('heading', { name: 'Next.js shop' }).waitFor();
    await checkPage('app');
  });

  await step('the app, configured from those lines, signs a user in', async () => {
    if (!running) throw new Error('no Latch');
    user = await createUser(running, { name: 'Ada Lovelace' });
    const client = { client_id: app.id, client_secret: app.secret, redirect_uris: [`${APP_URL}/api/auth/callback/latch`], token_endpoint_auth_method: 'client_secret_basic' as const };
    const { tokens } = await signIn(await relyingParty(running, client), user, { params: { prompt: 'consent' } });
    refreshToken = tokens.refresh_token ?? '';
    if (!refreshToken) throw new Error('no refresh token');
  });

  await step('the admin finds the user by typing, without submitting', async () => {
    if (!page || !running) throw new Error('no page');
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
    if (!page) throw new Error('no page');
    await page.getByRole('link', { name: "All of this user's events" }).click();
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    await page.locator('tr', { hasText: 'interaction.signed_in' }).filter({ hasText: app.id }).first().waitFor();
    await checkPage('audit');
  });

  await step("disabling the user makes the app's next refresh fail; enabling lets them sign in again", async () => {
    if (!page || !running) throw new Error('no page');
    await page.goto(`${running.baseUrl}/admin/users/${user.id}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('The user is disabled').waitFor();
    await checkPage('user-disabled');
    const refresh = await fetch(`${running.baseUrl}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${app.id}:${app.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    if (refresh.status !== 400) throw new Error(`the refresh answered ${refresh.status}`);
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('The user is enabled again').waitFor();
    const client = { client_id: app.id, client_secret: app.secret, redirect_uris: [`${APP_URL}/api/auth/callback/latch`], token_endpoint_auth_method: 'client_secret_basic' as const };
    await signIn(await relyingParty(running, client), user, { params: { prompt: 'consent' } });
  });

  await step('by keyboard alone, the admin registers an API with a permission, makes a role granting it and gives it to the user', async () => {
    if (!page || !running) throw new Error('no page');
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
    if (!page || !running) throw new Error('no page');
    await page.goto(`${running.baseUrl}/admin/users/${user.id}/delete`);
    await page.getByRole('heading', { name: `Delete ${user.email}?` }).waitFor();
    await checkPage('confirm-delete');
    await page.goto(`${running.baseUrl}/admin/apps/${app.id}/rotate-secret`);
    await checkPage('confirm-rotate');
    await page.goto(`${running.baseUrl}/admin/roles/order-reader/delete`);
    await page.getByRole('heading', { name: 'Delete the role order-reader?' }).waitFor();
    await checkPage('confirm-delete-role');
  });

  print(`${passed} passed${failed ? ', 1 failed' : ''}; screenshots in ${screenshots}`);
}

try {
  await main();
} catch (error) {
  failed = true;
  print(`browser test failed outside a step: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  for (const cleanup of cleanups) await cleanup().catch((error: unknown) => print(`  ! cleanup failed: ${String(error)}`));
}
process.exit(failed ? 1 : 0);
