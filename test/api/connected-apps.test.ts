import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Response } from 'supertest';
import { Browser } from '../support/browser.js';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';

const CHROME_ON_MACOS = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

let running: RunningLatch;
/** The app calling the API: first-party, its refresh tokens bound to the session. */
let caller: oidc.Configuration;
/** Another app the user gave access, with offline_access. */
let printer: oidc.Configuration;

beforeAll(async () => {
  running = await startLatch();
  caller = await relyingParty(running, await registerClient(running.latch, { client_name: 'Account Manager', redirect_uris: ['https://manager.example.com/callback'], first_party: true }));
  printer = await relyingParty(running, await registerClient(running.latch, { client_name: 'Photo Printer', redirect_uris: ['https://photos.example.com/callback'] }));
});

afterAll(async () => {
  await running?.stop();
});

const api = (method: 'get' | 'delete', path: string, token: string) => running.http()[method](`/api/v1/users/me${path}`).set('Authorization', `Bearer ${token}`);

function expectNotFound(response: Response) {
  expect(response.status).toBe(404);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type: 'urn:latch:problem:not-found', status: 404 });
}

/** A user signed in to the calling app (in a browser of its own) and to the printer (in another). */
async function userWithTwoApps(user?: TestUser) {
  const account = user ?? (await createUser(running));
  const own = await signIn(caller, account, { scope: 'openid email profile', browser: new Browser(CHROME_ON_MACOS) });
  const printing = await signIn(printer, account, { params: { prompt: 'consent' } });
  return { user: account, token: own.tokens.access_token, own, printing };
}

const grantIdOf = async (token: string, clientId: string): Promise<string> => {
  const { body } = await api('get', '/grants', token).expect(200);
  const grant = (body.grants as { id: string; client_id: string }[]).find((entry) => entry.client_id === clientId);
  if (!grant) throw new Error(`no grant for ${clientId}`);
  return grant.id;
};

const sessionUidOf = async (browser: Browser): Promise<string> => {
  const [row] = await query<{ uid: string }>(running.databaseUrl, "SELECT uid FROM oidc_payloads WHERE model = 'Session' AND id = $1", [browser.cookie(running.baseUrl, '_session')]);
  return row?.uid ?? '';
};

describe('/api/v1/users/me/grants', () => {
  it("lists the user's apps with their scopes, and no one else's", async () => {
    const { token, user } = await userWithTwoApps();
    await userWithTwoApps();

    const { body, headers } = await api('get', '/grants', token).expect(200);

    expect(headers['cache-control']).toBe('no-store');
    const byClient = Object.fromEntries((body.grants as { client_id: string }[]).map((grant) => [grant.client_id, grant]));
    expect(Object.keys(byClient).sort()).toEqual([caller.clientMetadata().client_id, printer.clientMetadata().client_id].sort());
    expect(byClient[printer.clientMetadata().client_id]).toEqual({
      id: expect.any(String),
      client_id: printer.clientMetadata().client_id,
      client_name: 'Photo Printer',
      scopes: expect.arrayContaining(['openid', 'email', 'profile', 'offline_access']),
      resources: [running.config.oidc.apiResource],
      granted_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      expires_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    const owners = await query<{ account_id: string }>(running.databaseUrl, "SELECT account_id FROM oidc_payloads WHERE model = 'Grant' AND id = ANY($1)", [
      (body.grants as { id: string }[]).map((grant) => grant.id),
    ]);
    expect(owners.every((owner) => owner.account_id === user.id)).toBe(true);
  });

  it("revokes one grant and its tokens: the app's refresh gets invalid_grant", async () => {
    const { token, printing } = await userWithTwoApps();

    await api('delete', `/grants/${await grantIdOf(token, printer.clientMetadata().client_id)}`, token).expect(204);

    await expect(oidc.refreshTokenGrant(printer, printing.tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    const { body } = await api('get', '/grants', token).expect(200);
    expect((body.grants as { client_id: string }[]).map((grant) => grant.client_id)).toEqual([caller.clientMetadata().client_id]);
  });

  it("answers another user's grant, and an unknown one, as not found, and leaves it working", async () => {
    const victim = await userWithTwoApps();
    const attacker = await userWithTwoApps();
    const victimGrant = await grantIdOf(victim.token, printer.clientMetadata().client_id);

    const foreign = await api('delete', `/grants/${victimGrant}`, attacker.token);
    const unknown = await api('delete', `/grants/${randomUUID()}`, attacker.token);

    expectNotFound(foreign);
    expectNotFound(unknown);
    expect(foreign.body.detail).toBe(unknown.body.detail);
    await expect(oidc.refreshTokenGrant(printer, victim.printing.tokens.refresh_token as string)).resolves.toMatchObject({ access_token: expect.any(String) });
  });

  it("revokes every grant but the caller's own at once", async () => {
    const { token, printing } = await userWithTwoApps();

    await api('delete', '/grants', token).expect(204);

    await expect(oidc.refreshTokenGrant(printer, printing.tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    const { body } = await api('get', '/grants', token).expect(200);
    expect((body.grants as { client_id: string }[]).map((grant) => grant.client_id)).toEqual([caller.clientMetadata().client_id]);
  });
});

describe('/api/v1/users/me/sessions', () => {
  it('lists the sessions, the caller\'s first and marked current, with device, address and apps', async () => {
    const { token, own, printing } = await userWithTwoApps();

    const { body } = await api('get', '/sessions', token).expect(200);

    expect(body.sessions).toEqual([
      expect.objectContaining({ id: await sessionUidOf(own.browser), current: true, device: 'Chrome on macOS', ip: '127.0.0.1', client_ids: [caller.clientMetadata().client_id] }),
      expect.objectContaining({ id: await sessionUidOf(printing.browser), current: false, client_ids: [printer.clientMetadata().client_id] }),
    ]);
    expect(body.sessions[0].last_seen_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // The session's cookie value is its secret: never shown.
    expect(JSON.stringify(body)).not.toContain(own.browser.cookie(running.baseUrl, '_session'));
  });

  it('ends another session: that browser is signed out, and a refresh token bound to it dies', async () => {
    const user = await createUser(running);
    const { token } = await userWithTwoApps(user);
    // Signed in to the first-party app in a third browser, without offline_access.
    const elsewhere = await signIn(caller, user, { scope: 'openid' });

    await api('delete', `/sessions/${await sessionUidOf(elsewhere.browser)}`, token).expect(204);

    await expect(oidc.refreshTokenGrant(caller, elsewhere.tokens.refresh_token as string)).rejects.toMatchObject({ error: 'invalid_grant' });
    const again = await elsewhere.browser.navigate(`${running.baseUrl}/account`);
    expect(again.html).toMatch(/<input[^>]+name="password"/);
    await api('get', '/sessions', token).expect(200);
  });

  it("answers another user's session as not found, and leaves it signed in", async () => {
    const victim = await userWithTwoApps();
    const attacker = await userWithTwoApps();

    expectNotFound(await api('delete', `/sessions/${await sessionUidOf(victim.own.browser)}`, attacker.token));
    expectNotFound(await api('delete', `/sessions/${randomUUID()}`, attacker.token));

    await api('get', '', victim.token).expect(200);
    const page = await victim.own.browser.navigate(`${running.baseUrl}/account`);
    expect(page.html).toContain('<h1>Your account</h1>');
  });

  it("ends every session but the caller's; an offline_access grant outlives its session", async () => {
    const { token, printing, own } = await userWithTwoApps();

    await api('delete', '/sessions', token).expect(204);

    const { body } = await api('get', '/sessions', token).expect(200);
    expect((body.sessions as { id: string }[]).map((session) => session.id)).toEqual([await sessionUidOf(own.browser)]);
    expect((await printing.browser.navigate(`${running.baseUrl}/account`)).html).toMatch(/<input[^>]+name="password"/);
    // The printer was given offline_access: it stays connected, as after signing out at /session/end.
    await expect(oidc.refreshTokenGrant(printer, printing.tokens.refresh_token as string)).resolves.toMatchObject({ access_token: expect.any(String) });
  });
});
