import type * as oidc from 'openid-client';
import { Browser, type Page } from '../support/browser.js';
import { runCli } from '../support/cli.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, PASSWORD, relyingParty, signIn } from '../support/sign-in.js';
import { linkIn, startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';
import { query } from '../support/sql.js';

let smtp: TestSmtpServer;
let running: RunningLatch;
let app: oidc.Configuration;

beforeAll(async () => {
  smtp = await startSmtpServer();
  running = await startLatch({ SMTP_URL: smtp.url });
  const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true });
  app = await relyingParty(running, client);
});

afterAll(async () => {
  await running?.stop();
  await smtp?.stop();
});

const newAddress = () => `new-${Math.random().toString(36).slice(2)}@example.com`;

async function signedIn() {
  const user = await createUser(running);
  const { tokens } = await signIn(app, user, { scope: 'openid email profile' });
  return { user, token: tokens.access_token };
}

const patch = (token: string, body: unknown) => running.http().patch('/api/v1/users/me').set('Authorization', `Bearer ${token}`).send(body as object);
const me = (token: string) => running.http().get('/api/v1/users/me').set('Authorization', `Bearer ${token}`);

async function confirm(link: URL, browser = new Browser()): Promise<Page> {
  const page = await browser.navigate(link);
  return browser.submit(page, {}, { button: 'Confirm my new email address' });
}

describe('email change', () => {
  it('confirms the new address by a link mailed to it, tells the old one, and only then replaces it (verified)', async () => {
    const { user, token } = await signedIn();
    const email = newAddress();
    const response = await patch(token, { email, name: 'Ada' });
    expect(response.status).toBe(200);
    expect(response.body.email).toBe(user.email);
    expect(response.body.name).toBe('Ada');

    const [confirmation] = await smtp.waitFor(1, { to: email, subject: /^Confirm your new email address/ });
    const [notice] = await smtp.waitFor(1, { to: user.email, subject: /is changing$/ });
    expect(notice?.text).toContain(email);
    expect(confirmation?.text.match(/https?:\/\/\S+/g)).toHaveLength(1);
    expect((await me(token)).body.email).toBe(user.email);

    const done = await confirm(linkIn(confirmation as never));
    expect(done.status).toBe(200);
    expect(done.html).toContain('Your email address has changed');
    expect((await me(token)).body).toMatchObject({ email, email_verified: true });
    await expect(signIn(app, { email, password: PASSWORD })).resolves.toBeDefined();

    const reused = await confirm(linkIn(confirmation as never));
    expect(reused.status).toBe(400);
  });

  it('is asked for on the account page too, through the same service and the same link', async () => {
    const user = await createUser(running);
    const browser = new Browser();
    const signInPage = await browser.navigate(`${running.baseUrl}/account`);
    const account = await browser.submit(signInPage, { email: user.email, password: PASSWORD }, { button: 'Sign in' });
    expect(account.html).toContain('<h1>Your account</h1>');

    const taken = await browser.submit(account, { email: user.email }, { button: 'Change email' });
    expect(taken.status).toBe(400);
    expect(taken.html).toContain('This is already your email address.');

    const email = newAddress();
    const asked = await browser.submit(account, { email }, { button: 'Change email' });
    expect(asked.status).toBe(200);
    expect(asked.html).toContain('We sent a link to the new address');
    const [confirmation] = await smtp.waitFor(1, { to: email, subject: /^Confirm your new email address/ });
    const done = await confirm(linkIn(confirmation as never));
    expect(done.html).toContain('Your email address has changed');
    const [row] = await query<{ email: string; email_verified: boolean }>(running.databaseUrl, 'SELECT email, email_verified FROM users WHERE id = $1', [user.id]);
    expect(row).toEqual({ email, email_verified: true });
  });

  it('refuses at confirmation an address another account took meanwhile', async () => {
    const { user, token } = await signedIn();
    const email = newAddress();
    await patch(token, { email }).expect(200);
    const [confirmation] = await smtp.waitFor(1, { to: email, subject: /^Confirm/ });
    await createUser(running, { email });

    const refused = await confirm(linkIn(confirmation as never));
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('This address is taken');
    expect((await me(token)).body.email).toBe(user.email);
  });

  it('refuses a taken, an invalid and the same address at once, as problems', async () => {
    const { user, token } = await signedIn();
    const other = await createUser(running);
    expect((await patch(token, { email: other.email.toUpperCase() })).status).toBe(409);
    const invalid = await patch(token, { email: 'not an address' });
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors).toEqual([{ pointer: '#/email', detail: expect.any(String) }]);
    expect((await patch(token, { email: user.email })).status).toBe(400);
  });

  it("does not let one user's link change another's address", async () => {
    const first = await signedIn();
    const second = await signedIn();
    const email = newAddress();
    await patch(first.token, { email }).expect(200);
    const [confirmation] = await smtp.waitFor(1, { to: email, subject: /^Confirm/ });
    const forged = linkIn(confirmation as never);
    forged.searchParams.set('token', forged.searchParams.get('token')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    expect((await confirm(forged)).status).toBe(400);
    await confirm(linkIn(confirmation as never));
    expect((await me(second.token)).body.email).toBe(second.user.email);
    expect((await me(first.token)).body.email).toBe(email);
  });
});

describe('the audit trail', () => {
  it('records security events with time, actor, subject, IP and user agent, and no secret', async () => {
    const user = await createUser(running);
    await running.http().post('/api/v1/password-resets').set('User-Agent', 'audit-test/1.0').send({ email: user.email }).expect(202);
    const rows = await query<{ event: string; actor: string | null; subject_id: string | null; ip: string | null; user_agent: string | null; details: unknown }>(
      running.databaseUrl,
      'SELECT event, actor, subject_id, ip, user_agent, details FROM audit_events WHERE subject_id = $1 ORDER BY id',
      [user.id],
    );
    expect(rows.map((row) => row.event)).toEqual(['account.registered', 'email.verification_sent', 'password.reset_requested']);
    expect(rows[2]).toMatchObject({ actor: user.id, subject_id: user.id, ip: '127.0.0.1', user_agent: 'audit-test/1.0' });
    const everything = JSON.stringify(await query(running.databaseUrl, 'SELECT * FROM audit_events'));
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toMatch(/token=/);
  });

  it('records failed sign-ins too, and keeps every event as written', async () => {
    await expect(signIn(app, { email: 'nobody@example.com', password: 'wrong password' })).rejects.toThrow();
    const refused = await query<{ details: { reason: string } }>(running.databaseUrl, "SELECT details FROM audit_events WHERE event = 'account.sign_in_refused'");
    expect(refused.map((row) => row.details.reason)).toContain('unknown_email');

    await query(running.databaseUrl, 'UPDATE audit_events SET event = $1', ['tampered']);
    await query(running.databaseUrl, 'DELETE FROM audit_events');
    expect(await query(running.databaseUrl, "SELECT 1 FROM audit_events WHERE event = 'tampered'")).toEqual([]);
    expect((await query(running.databaseUrl, 'SELECT 1 FROM audit_events')).length).toBeGreaterThan(0);
  });

  it('is listed by `latch audit list`, by user, event and time', async () => {
    const user = await createUser(running);
    const latch = (...args: string[]) => runCli(running, args, { env: { LOG_LEVEL: 'warn' } });

    const listed = await latch('audit', 'list', '--user', user.email, '--since', '1h');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^TIME\s+EVENT\s+ACTOR\s+SUBJECT\s+IP\s+DETAILS/);
    expect(listed.stdout).toContain('account.registered');
    expect(listed.stdout).toContain(user.id);

    const filtered = await latch('audit', 'list', '--user', user.email, '--event', 'email.verification_sent');
    expect(filtered.stdout).not.toContain('account.registered');
    expect(filtered.stdout).toContain('email.verification_sent');

    const bad = await latch('audit', 'list', '--since', 'yesterday');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--since needs a date/);
    const unknown = await latch('audit', 'list', '--user', 'nobody@example.com');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No account has the address nobody@example.com');
  });
});
