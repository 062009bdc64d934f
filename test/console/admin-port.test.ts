import { Browser } from '../support/browser.js';
import { findFreePort } from '../support/free-port.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createAdmin, signInToConsole } from './support.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch({ ADMIN_PORT: String(await findFreePort()) });
});

afterAll(async () => {
  await running?.stop();
});

describe('the admin console with ADMIN_PORT', () => {
  it('is served by the admin listener alone, and its sign-in comes back there', async () => {
    const adminUrl = running.adminUrl as string;
    const admin = await createAdmin(running);

    const publicPage = await new Browser().navigate(`${running.baseUrl}/admin/users`);
    expect(publicPage.status).toBe(404);
    expect(publicPage.html).toContain('There is no such page');

    const browser = new Browser();
    const signInPage = await browser.navigate(`${adminUrl}/admin/users`);
    expect(signInPage.url.origin).toBe(running.baseUrl);
    const page = await signInToConsole(browser, signInPage, admin);
    expect(page.url.href).toBe(`${adminUrl}/admin/users`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Users</h1>');
  });
});
