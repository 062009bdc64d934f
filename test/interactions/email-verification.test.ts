import { Browser } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';
import { atRedirect, Authorization, PASSWORD, signInForm, testClient, uniqueEmail, type TestClient } from './support.js';

let running: RunningLatch;
let client: TestClient;

beforeAll(async () => {
  running = await startLatch({ REQUIRE_EMAIL_VERIFICATION: 'true' });
  client = await testClient(running);
});

afterAll(async () => {
  await running.stop();
});

describe('with REQUIRE_EMAIL_VERIFICATION', () => {
  it('refuses an unverified user with a message to verify, and signs them in once verified', async () => {
    const email = uniqueEmail();
    const user = await running.latch.accounts.register({ email, password: PASSWORD });
    const browser = new Browser();
    const authorization = await Authorization.start(client);
    const login = await authorization.open(browser);

    const refused = await signInForm(login, email, PASSWORD, browser);
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('Verify your email address before signing in');

    await query(running.databaseUrl, 'UPDATE users SET email_verified = true WHERE id = $1', [user.id]);
    const consent = await signInForm(refused, email, PASSWORD, browser);
    expect(consent.html).toContain('would like to:');
  });

  it('does not tell a wrong password apart from an unverified account', async () => {
    const email = uniqueEmail();
    await running.latch.accounts.register({ email, password: PASSWORD });
    const browser = new Browser();
    const login = await (await Authorization.start(client)).open(browser);

    const wrong = await signInForm(login, email, 'not the password at all', browser);
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain('Email or password is incorrect.');
    expect(wrong.html).not.toContain('Verify your email');
  });

  it('creates the account at registration, then asks to verify it before signing in', async () => {
    const email = uniqueEmail();
    const browser = new Browser();
    const login = await (await Authorization.start(client)).open(browser);
    const form = await browser.navigate(new URL(/href="(\/interaction\/[^"]+\/register)"/.exec(login.html)?.[1] as string, running.baseUrl));

    const page = await browser.submit(form, { email, password: PASSWORD }, { button: 'Create account', stopAt: atRedirect });

    expect(page.status).toBe(200);
    expect(page.html).toContain('Your account has been created. Verify your email address');
    expect(page.html).toContain(`value="${email}"`);
    expect(page.html).toMatch(/<input[^>]+name="password"/);
    expect(await query(running.databaseUrl, 'SELECT 1 FROM users WHERE email = $1', [email])).toHaveLength(1);
  });
});
