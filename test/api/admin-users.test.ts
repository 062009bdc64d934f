import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Response } from 'supertest';
import { registerClient } from '../support/clients.js';
import { adminClient, adminClientToken, adminUserToken, clientCredentialsToken } from '../support/admin.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';
import { PASSWORD, createUser, relyingParty, signIn } from '../support/sign-in.js';
import { query } from '../support/sql.js';

let smtp: TestSmtpServer;
let running: RunningLatch;
let app: oidc.Configuration;
let admin: string;
let adminActor: string;

beforeAll(async () => {
  smtp = await startSmtpServer();
  running = await startLatch({ SMTP_URL: smtp.url });
  // First-party: no consent page; refresh tokens even without offline_access (bound to the session).
  app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
  const machine = await adminClient(running);
  admin = await clientCredentialsToken(running, machine, 'admin');
  adminActor = `client:${machine.clientId}`;
});

afterAll(async () => {
  await running?.stop();
  await smtp?.stop();
});

const API = '/api/v1/admin';
const as = (token: string) => ({
  get: (path: string) => running.http().get(`${API}${path}`).set('Authorization', `Bearer ${token}`),
  post: (path: string, body?: object) => {
    const request = running.http().post(`${API}${path}`).set('Authorization', `Bearer ${token}`);
    return body === undefined ? request : request.send(body);
  },
  patch: (path: string, body: object) => running.http().patch(`${API}${path}`).set('Authorization', `Bearer ${token}`).send(body),
  delete: (path: string) => running.http().delete(`${API}${path}`).set('Authorization', `Bearer ${token}`),
});
const asAdmin = () => as(admin);

function expectProblem(response: Response, status: number, pointers?: string[]) {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, type: expect.stringMatching(/^urn:latch:problem:/) });
  if (pointers) expect((response.body.errors as { pointer: string }[]).map((error) => error.pointer)).toEqual(pointers);
}

const tag = () => randomUUID().slice(0, 8);

async function auditEvents(userId: string, event: string): Promise<{ actor: string; details: Record<string, unknown> }[]> {
  return query(running.databaseUrl, 'select actor, details from audit_events where subject_id = $1 and event = $2 order by id', [userId, event]);
}

describe('who may call the admin API', () => {
  it('refuses no token, a user token without admin, a client without admin, and a disabled admin', async () => {
    const noToken = await running.http().get(`${API}/users`);
    expectProblem(noToken, 401);
    expect(noToken.headers['www-authenticate']).toMatch(/^Bearer realm="latch"/);

    const { tokens } = await signIn(app, await createUser(running), { scope: 'openid email profile' });
    const userToken = await as(tokens.access_token).get('/users');
    expectProblem(userToken, 403);
    expect(userToken.headers['www-authenticate']).toMatch(/error="insufficient_scope"/);

    const plainClient = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const plain = await clientCredentialsToken(running, { clientId: plainClient.client_id, clientSecret: plainClient.client_secret as string }, '');
    expectProblem(await as(plain).get('/users'), 403);

    const person = await createUser(running);
    const personToken = await adminUserToken(running, person);
    await as(personToken).get('/users').expect(200);
    await asAdmin().post(`/users/${person.id}/disable`).expect(200);
    expectProblem(await as(personToken).get('/users'), 401);
  });
});

describe('/api/v1/admin/users', () => {
  it('creates a user (201, Location), refusing a taken address in any case (409) and bad fields by name (400)', async () => {
    const email = `Created.${tag()}@Example.com`;
    const created = await asAdmin().post('/users', { email, password: PASSWORD, email_verified: true, name: 'Created', given_name: 'C' }).expect(201);
    expect(created.body).toMatchObject({ email, email_verified: true, name: 'Created', given_name: 'C', status: 'active' });
    expect(created.body).not.toHaveProperty('password_reset_link');
    expect(created.headers.location).toBe(`${API}/users/${created.body.id}`);
    expect(await running.latch.accounts.authenticate(email, PASSWORD)).toMatchObject({ id: created.body.id });

    expectProblem(await asAdmin().post('/users', { email: email.toLowerCase(), password: PASSWORD }), 409);
    expectProblem(await asAdmin().post('/users', { email: 'not-an-address', password: 'short', website: 'ftp://x' }), 400, ['#/email', '#/password', '#/website']);
    expectProblem(await asAdmin().post('/users', { email: `x.${tag()}@example.com`, role: 'admin' }), 400, ['#/role']);
    expect(await auditEvents(created.body.id, 'account.created')).toEqual([{ actor: adminActor, details: { via: 'admin', email_verified: true, password_set: true, roles: [] } }]);
  });

  it('creates a user with roles, shows them, and finds users by role; an unknown role refuses the whole creation', async () => {
    const t = tag();
    const made = await asAdmin().post('/users', { email: `roled.${t}@example.com`, password: PASSWORD, roles: ['admin'] }).expect(201);
    expect((await asAdmin().get(`/users/${made.body.id}`).expect(200)).body.roles).toEqual(['admin']);
    const plain = await asAdmin().post('/users', { email: `plain.${t}@example.com`, password: PASSWORD }).expect(201);
    const byRole = (await asAdmin().get(`/users?query=${t}&role=admin`).expect(200)).body.users as { id: string }[];
    expect(byRole.map((user) => user.id)).toEqual([made.body.id]);
    expect(byRole.map((user) => user.id)).not.toContain(plain.body.id);

    const refused = await asAdmin().post('/users', { email: `unroled.${t}@example.com`, password: PASSWORD, roles: ['admin', 'no-such-role'] });
    expectProblem(refused, 400, ['#/roles']);
    expect(await query(running.databaseUrl, 'select 1 from users where email = $1', [`unroled.${t}@example.com`])).toEqual([]);
  });

  it('creates a user without a password, who is mailed a reset link at the SMTP server', async () => {
    const email = `invited.${tag()}@example.com`;
    const created = await asAdmin().post('/users', { email }).expect(201);
    expect(created.body).not.toHaveProperty('password_reset_link');
    const [mail] = await smtp.waitFor(1, { to: email });
    expect(mail?.text).toMatch(new RegExp(`${running.baseUrl}/self-service/reset-password\\?token=`));
  });

  it('finds users by email or name, filters by status, and pages with a cursor', async () => {
    const t = tag();
    const ids: string[] = [];
    for (const [n, name] of ['Ada Lovelace', 'Grace Hopper', 'Ada Byron'].entries()) {
      ids.push((await asAdmin().post('/users', { email: `find-${n}.${t}@example.com`, password: PASSWORD, name: `${name} ${t}` }).expect(201)).body.id);
    }
    await asAdmin().post(`/users/${ids[1]}/disable`).expect(200);

    const emails = (response: Response) => (response.body.users as { id: string }[]).map((user) => user.id);
    expect(emails(await asAdmin().get(`/users?query=${t.toUpperCase()}`).expect(200))).toEqual(ids);
    expect(emails(await asAdmin().get(`/users?query=${encodeURIComponent(`ada byron ${t}`)}`).expect(200))).toEqual([ids[2]]);
    expect(emails(await asAdmin().get(`/users?query=${t}&status=disabled`).expect(200))).toEqual([ids[1]]);

    const first = await asAdmin().get(`/users?query=${t}&limit=2`).expect(200);
    expect(emails(first)).toEqual(ids.slice(0, 2));
    const second = await asAdmin().get(`/users?query=${t}&limit=2&cursor=${first.body.next_cursor}`).expect(200);
    expect(second.body).toMatchObject({ next_cursor: null });
    expect(emails(second)).toEqual([ids[2]]);

    expectProblem(await asAdmin().get('/users?cursor=forged'), 400, ['#/cursor']);
    expectProblem(await asAdmin().get('/users?limit=500'), 400, ['#/limit']);
    expectProblem(await asAdmin().get('/users?limit=ten'), 400, ['#/limit']);
    expectProblem(await asAdmin().get('/users?status=gone'), 400, ['#/status']);
    expectProblem(await asAdmin().get('/users?sort=email'), 400, ['#/sort']);
    expectProblem(await asAdmin().get('/users?query=a&query=b'), 400, ['#/query']);
  });

  it('shows a user with counts of sessions and grants, and 404 for an unknown or malformed id', async () => {
    const user = await createUser(running);
    await signIn(app, user, { scope: 'openid' });
    const shown = await asAdmin().get(`/users/${user.id}`).expect(200);
    expect(shown.body).toMatchObject({ id: user.id, email: user.email, email_verified: false, status: 'active', sessions: 1, grants: 1 });
    for (const id of [randomUUID(), 'not-a-uuid']) {
      expectProblem(await asAdmin().get(`/users/${id}`), 404);
      expectProblem(await asAdmin().patch(`/users/${id}`, { name: 'x' }), 404);
      expectProblem(await asAdmin().delete(`/users/${id}`), 404);
      expectProblem(await asAdmin().post(`/users/${id}/disable`), 404);
      expectProblem(await asAdmin().post(`/users/${id}/password-reset`), 404);
      expectProblem(await asAdmin().get(`/users/${id}/sessions`), 404);
      expectProblem(await asAdmin().delete(`/users/${id}/grants`), 404);
    }
  });

  it('changes claims, email, verification and status with PATCH semantics, all or nothing, audited with before and after', async () => {
    const t = tag();
    const user = (await asAdmin().post('/users', { email: `patch.${t}@example.com`, password: PASSWORD, email_verified: true, name: 'Before', nickname: 'n' }).expect(201)).body as { id: string };
    const other = await createUser(running);

    const patched = await asAdmin().patch(`/users/${user.id}`, { email: `patched.${t}@example.com`, name: 'After', nickname: null }).expect(200);
    expect(patched.body).toMatchObject({ email: `patched.${t}@example.com`, email_verified: false, name: 'After', nickname: null, status: 'active' });
    expectProblem(await asAdmin().patch(`/users/${user.id}`, { email: other.email.toUpperCase(), name: 'Half' }), 409);
    expectProblem(await asAdmin().patch(`/users/${user.id}`, { website: 'not a url', status: 'gone' }), 400, ['#/status']);
    expectProblem(await asAdmin().patch(`/users/${user.id}`, { website: 'not a url' }), 400, ['#/website']);
    expect((await asAdmin().get(`/users/${user.id}`).expect(200)).body).toMatchObject({ name: 'After', email: `patched.${t}@example.com` });

    await asAdmin().patch(`/users/${user.id}`, { status: 'disabled' }).expect(200);
    const [updated] = await auditEvents(user.id, 'account.updated');
    expect(updated).toEqual({ actor: adminActor, details: expect.objectContaining({ before_email: `patch.${t}@example.com`, after_email: `patched.${t}@example.com`, claims: ['name', 'nickname'] }) });
    const [disabled] = await auditEvents(user.id, 'account.disabled');
    expect(disabled?.details).toMatchObject({ before_status: 'active', after_status: 'disabled' });
  });

  it('disabling ends sessions and tokens at once (refresh, userinfo, API), and enabling lets the user sign in again', async () => {
    const user = await createUser(running);
    const { tokens } = await signIn(app, user, { scope: 'openid email profile offline_access' });
    await running.http().get('/me').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);

    const disabled = await asAdmin().post(`/users/${user.id}/disable`).expect(200);
    expect(disabled.body).toMatchObject({ id: user.id, status: 'disabled' });

    await expect(oidc.refreshTokenGrant(app, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await running.http().get('/me').set('Authorization', `Bearer ${tokens.access_token}`)).status).toBe(401);
    expectProblem(await running.http().get('/api/v1/users/me').set('Authorization', `Bearer ${tokens.access_token}`), 401);
    expect(await query(running.databaseUrl, 'select model from oidc_payloads where account_id = $1', [user.id])).toEqual([]);
    await expect(signIn(app, user)).rejects.toThrow(/did not reach the redirect URI/);

    await asAdmin().post(`/users/${user.id}/enable`).expect(200);
    const again = await signIn(app, user, { scope: 'openid email' });
    await running.http().get('/me').set('Authorization', `Bearer ${again.tokens.access_token}`).expect(200);
    expect((await auditEvents(user.id, 'account.enabled'))[0]).toMatchObject({ actor: adminActor, details: { before_status: 'disabled', after_status: 'active' } });
  });

  it('sends a password reset link to the SMTP server', async () => {
    const user = await createUser(running);
    const reset = await asAdmin().post(`/users/${user.id}/password-reset`).expect(202);
    expect(reset.body).toEqual({ mailed: true });
    const [mail] = await smtp.waitFor(1, { to: user.email, subject: /reset/i });
    expect(mail?.text).toMatch(/\/self-service\/reset-password\?token=[A-Za-z0-9_-]{43}/);
    expect((await auditEvents(user.id, 'password.reset_requested'))[0]).toEqual({ actor: adminActor, details: { via: 'admin', mailed: true } });
  });

  it("lists and ends a user's sessions, and lists and revokes their grants", async () => {
    const user = await createUser(running);
    await signIn(app, user, { scope: 'openid' });
    await signIn(app, user, { scope: 'openid' });

    const sessions = await asAdmin().get(`/users/${user.id}/sessions`).expect(200);
    expect(sessions.body.sessions).toHaveLength(2);
    expect(sessions.body.sessions[0]).toMatchObject({ current: false, client_ids: [expect.any(String)] });
    await asAdmin().delete(`/users/${user.id}/sessions`).expect(204);
    expect((await asAdmin().get(`/users/${user.id}/sessions`).expect(200)).body.sessions).toEqual([]);
    expect((await auditEvents(user.id, 'session.ended')).map((event) => event.actor)).toEqual([adminActor, adminActor]);

    const later = await signIn(app, user, { scope: 'openid offline_access' });
    const grants = await asAdmin().get(`/users/${user.id}/grants`).expect(200);
    expect(grants.body.grants).toEqual([expect.objectContaining({ scopes: expect.arrayContaining(['openid']) })]);
    const refreshed = await oidc.refreshTokenGrant(app, later.tokens.refresh_token as string);
    await asAdmin().delete(`/users/${user.id}/grants`).expect(204);
    expect((await asAdmin().get(`/users/${user.id}/grants`).expect(200)).body.grants).toEqual([]);
    await expect(oidc.refreshTokenGrant(app, refreshed.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await auditEvents(user.id, 'grant.revoked')).at(-1)).toMatchObject({ actor: adminActor, details: { via: 'admin' } });
  });

  it('deletes a user with everything of theirs', async () => {
    const user = await createUser(running);
    const { tokens } = await signIn(app, user, { scope: 'openid offline_access' });
    await asAdmin().delete(`/users/${user.id}`).expect(204);
    expectProblem(await asAdmin().get(`/users/${user.id}`), 404);
    await expect(oidc.refreshTokenGrant(app, tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    for (const table of ['users where id', 'profiles where user_id', 'session_devices where user_id', 'account_tokens where user_id', 'oidc_payloads where account_id']) {
      expect(await query(running.databaseUrl, `select 1 from ${table} = $1`, [user.id])).toEqual([]);
    }
    expect((await auditEvents(user.id, 'account.deleted'))[0]).toMatchObject({ actor: adminActor });
  });

  it('done when: an admin finds, disables and re-enables a user', async () => {
    const user = await createUser(running, { name: `Findable ${tag()}` });
    const token = await adminClientToken(running);
    const found = await as(token).get(`/users?query=${encodeURIComponent(user.email.slice(5, 17))}`).expect(200);
    expect(found.body.users).toEqual([expect.objectContaining({ id: user.id, email: user.email })]);
    await as(token).post(`/users/${user.id}/disable`).expect(200);
    expect(await running.latch.accounts.authenticate(user.email, user.password)).toBeNull();
    await as(token).post(`/users/${user.id}/enable`).expect(200);
    expect(await running.latch.accounts.authenticate(user.email, user.password)).toMatchObject({ id: user.id });
  });
});

describe('/api/v1/admin/users with mail off', () => {
  it('returns the reset link once, in the answer, instead of mailing it', async () => {
    const noMail = await startLatch({}, { mail: { worker: false } });
    try {
      const token = await adminClientToken(noMail);
      const email = `nomail.${tag()}@example.com`;
      const created = await noMail.http().post(`${API}/users`).set('Authorization', `Bearer ${token}`).send({ email }).expect(201);
      expect(created.body.password_reset_link).toMatch(/\/self-service\/reset-password\?token=/);
      const reset = await noMail.http().post(`${API}/users/${created.body.id}/password-reset`).set('Authorization', `Bearer ${token}`).expect(202);
      expect(reset.body).toEqual({ mailed: false, link: expect.stringMatching(/\/self-service\/reset-password\?token=/) });
      expect(reset.body.link).not.toEqual(created.body.password_reset_link);
      expect(await query(noMail.databaseUrl, 'select 1 from mail_outbox where recipient = $1', [email])).toEqual([]);
      // Shown once: nothing in the database or the log holds it.
      expect(noMail.logs()).not.toContain(new URL(reset.body.link as string).searchParams.get('token'));
    } finally {
      await noMail.stop();
    }
  });
});
