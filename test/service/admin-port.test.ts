import { randomBytes } from 'node:crypto';
import { adminClientToken } from '../support/admin.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { findFreePort } from '../support/free-port.js';
import { startLatch } from '../support/latch.js';
import { spawnLatch, type LatchProcess } from '../support/process.js';
import { query } from '../support/sql.js';

const ROLES = '/api/v1/admin/roles';

const get = (base: string, path: string, token?: string) => fetch(`${base}${path}`, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });

async function expectNotFoundProblem(response: Response) {
  expect(response.status).toBe(404);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await response.json()).toMatchObject({ type: 'urn:latch:problem:not-found', status: 404 });
}

describe('without ADMIN_PORT', () => {
  it('serves the admin API on the public listener', async () => {
    const running = await startLatch();
    try {
      expect(running.adminUrl).toBeUndefined();
      expect((await get(running.baseUrl, ROLES, await adminClientToken(running))).status).toBe(200);
    } finally {
      await running.stop();
    }
  });
});

/** Latch as `npm start` runs it (src/main.ts), with ADMIN_PORT: two real listeners. */
describe('with ADMIN_PORT', () => {
  let database: TestDatabase;
  let latch: LatchProcess;
  let publicUrl: string;
  let adminUrl: string;
  let token: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const [port, adminPort] = [await findFreePort(), await findFreePort()];
    publicUrl = `http://127.0.0.1:${port}`;
    adminUrl = `http://127.0.0.1:${adminPort}`;
    latch = await spawnLatch({
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'false',
      PORT: String(port),
      ISSUER: publicUrl,
      ADMIN_PORT: String(adminPort),
      LATCH_COOKIE_KEYS: 'admin-port-cookie-key-0123456789abcdef',
      LATCH_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString('base64url'),
    });
    // An admin machine client, as `clients create --admin` stores one: its row, and the admin role the start seeded.
    const clientId = `admin-${randomBytes(4).toString('hex')}`;
    const secret = randomBytes(32).toString('base64url');
    const metadata = { client_id: clientId, client_secret: secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'admin', token_endpoint_auth_method: 'client_secret_basic' };
    await query(database.url, "INSERT INTO oidc_payloads (model, id, payload) VALUES ('Client', $1, $2)", [clientId, metadata]);
    await query(database.url, "INSERT INTO client_roles (client_id, role_id) SELECT $1, id FROM roles WHERE name = 'admin'", [clientId]);
    const response = await fetch(`${publicUrl}/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin' }),
    });
    ({ access_token: token } = (await response.json()) as { access_token: string });
  });

  afterAll(async () => {
    await latch?.stop('SIGKILL');
    await database?.drop();
  });

  it('serves the admin API on the admin listener only', async () => {
    expect((await get(adminUrl, ROLES, token)).status).toBe(200);
    expect((await get(adminUrl, ROLES)).status).toBe(401);
  });

  it('answers 404 problem+json for the admin API on the public listener, even to an admin', async () => {
    await expectNotFoundProblem(await get(publicUrl, ROLES, token));
    await expectNotFoundProblem(await get(publicUrl, '/api/v1/admin'));
    // The rest of the public API is there as ever.
    expect((await get(publicUrl, '/api/v1/openapi.json')).status).toBe(200);
  });

  it('serves nothing else on the admin listener', async () => {
    await expectNotFoundProblem(await get(adminUrl, '/.well-known/openid-configuration'));
    await expectNotFoundProblem(await get(adminUrl, '/api/v1/users/me', token));
  });

  it('closes the admin listener too on SIGTERM, and exits 0', async () => {
    expect(await latch.stop('SIGTERM')).toBe(0);

    await expect(fetch(`${adminUrl}${ROLES}`)).rejects.toThrow();
    await expect(fetch(`${publicUrl}/healthz`)).rejects.toThrow();
  });
});
