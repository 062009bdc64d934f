import { setTimeout as sleep } from 'node:timers/promises';
import { Secret, TOTP } from 'otpauth';
import { Browser, formOf, type Page } from '../support/browser.js';
import type { RunningLatch } from '../support/latch.js';
import { createUser, type TestUser } from '../support/sign-in.js';

const STEP_MS = 30_000;

/**
 * An administrator as the console tests know them: once their authenticator app is set up, its
 * secret and the last time step a code of it was given in (Latch accepts each step once).
 */
export interface ConsoleAdmin extends TestUser {
  totp?: { secret: string; lastStep: number };
}

/** A user with the admin role, as the CLI's `users create --role admin` makes one; no second factor yet. */
export async function createAdmin(running: RunningLatch, overrides: { name?: string } = {}): Promise<ConsoleAdmin> {
  const user = await createUser(running, { name: 'Grace Admin', ...overrides });
  await running.latch.authorization.assignments.assign({ user: user.id }, 'admin', 'admin');
  return user;
}

export const isSignInPage = (page: Page) => page.url.pathname.startsWith('/interaction/') && /<input[^>]+name="password"/.test(page.html);

export const setupKeyOn = (page: Page): string => {
  const secret = /<code class="setup-key">([A-Z2-7]+)<\/code>/.exec(page.html)?.[1];
  if (!page.html.includes('Setup key') || !secret) throw new Error(`no setup key on:\n${page.html}`);
  return secret;
};

/**
 * The authenticator app's code for a step not given before: this one, or the next (within the
 * one step of drift Latch allows), else it waits for the clock to reach one.
 */
async function nextCode(totp: { secret: string; lastStep: number }): Promise<string> {
  const step = Math.max(Math.floor(Date.now() / STEP_MS), totp.lastStep + 1);
  const wait = (step - 1) * STEP_MS - Date.now();
  if (wait > 0) await sleep(wait + 100);
  totp.lastStep = step;
  return new TOTP({ secret: Secret.fromBase32(totp.secret) }).generate({ timestamp: step * STEP_MS });
}

/**
 * From Latch's sign-in page to where it returns, as an administrator goes: the password, then the
 * second factor the console's client requires. The first time, the admin sets an authenticator app
 * up from the setup key the page shows (kept on `admin` for the sign-ins after); after that, the
 * app's code.
 */
export async function signInToConsole(browser: Browser, signInPage: Page, admin: ConsoleAdmin): Promise<Page> {
  const second = await browser.submit(signInPage, { email: admin.email, password: admin.password }, { button: 'Sign in' });
  if (!admin.totp) {
    if (!second.html.includes('<h1>Set up two-step verification</h1>')) throw new Error(`no enrolment after the password:\n${second.html}`);
    admin.totp = { secret: setupKeyOn(second), lastStep: 0 };
    const codes = await browser.submit(second, { code: await nextCode(admin.totp) }, { button: 'Turn on' });
    if (!codes.html.includes('<h1>Your recovery codes</h1>')) throw new Error(`the first code was refused:\n${codes.html}`);
    return browser.submit(codes, {}, { button: 'I have saved them: continue' });
  }
  if (!second.html.includes('Authentication code')) throw new Error(`no second factor asked for after the password:\n${second.html}`);
  return browser.submit(second, { code: await nextCode(admin.totp) }, { button: 'Verify' });
}

/** A new administrator, signed in to the console on the way to `path` (such as '/roles'): the browser, and the page it came back to. */
export async function signedInAdmin(running: RunningLatch, path: string): Promise<{ admin: ConsoleAdmin; browser: Browser; page: Page }> {
  const admin = await createAdmin(running);
  const browser = new Browser();
  const signInPage = await browser.navigate(`${running.baseUrl}/admin${path}`);
  if (!isSignInPage(signInPage)) throw new Error(`${path} did not ask a new administrator to sign in:\n${signInPage.html}`);
  const page = await signInToConsole(browser, signInPage, admin);
  if (page.status !== 200) throw new Error(`the sign-in to ${path} ended at ${page.url.href} with ${page.status}`);
  return { admin, browser, page };
}

/** Posts one of the page's forms (found by its button) with its own fields, the anti-forgery token among them; `fields` add to or replace them (a select's choice). */
export function postForm(browser: Browser, page: Page, button: string, fields: Record<string, string> = {}): Promise<Page> {
  const form = formOf(page, button);
  return browser.navigate(form.action, { method: 'POST', body: new URLSearchParams({ ...form.fields, ...fields }) });
}
