import { decodeJwt } from 'jose';
import { clientCredentialsToken } from '../support/admin.js';
import { expectRefused, MANY_COMMANDS_MS, runCli } from '../support/cli.js';
import { startLatch, type RunningLatch } from '../support/latch.js';

const ORDERS = 'https://orders.example.com';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch({ RESOURCE_SERVERS: JSON.stringify({ 'https://seeded.example.com': 'seeded:read' }) });
});

afterAll(async () => {
  await running?.stop();
});

const latch = (...args: string[]) => runCli(running, args);
const printed = (run: { stdout: string }, label: string) => new RegExp(`${label}:\\s+(\\S+)`).exec(run.stdout)?.[1] ?? '';

describe('latch roles and latch resources', () => {
  it('tells a usage mistake, with what was probably meant, before it opens any database', async () => {
    expectRefused(await latch('roles', 'grnat'), /unknown subcommand: roles grnat\. Did you mean grant\?/);
    expectRefused(await latch('resources', 'permissions', 'ad'), /Did you mean add\?/);
    expectRefused(await latch('roles', 'grant', 'reader'), /roles grant takes a role, a resource server and at least one permission/);
  });

  it(
    'makes a resource server with permissions and a role holding one, which the next token of a client holding the role carries',
    async () => {
      const created = await latch('resources', 'create', ORDERS, '--name', 'Orders', '--permission', 'orders:read', '--permission', 'orders:write');
      expect(created).toMatchObject({ code: 0, stderr: '' });
      expect(created.stdout).toMatch(/Created resource server https:\/\/orders\.example\.com\./);
      expect(created.stdout).toMatch(/^ {2}orders:read {2,}-\n {2}orders:write +-$/m);

      expect(await latch('roles', 'create', 'reader', '--description', 'Reads orders')).toMatchObject({ code: 0 });
      const granted = await latch('roles', 'grant', 'reader', ORDERS, 'orders:read', '--json');
      expect(granted.code).toBe(0);
      expect(JSON.parse(granted.stdout)).toMatchObject({ name: 'reader', description: 'Reads orders', permissions: [{ resource: ORDERS, value: 'orders:read', id: expect.any(String) }] });

      const list = await latch('roles', 'list');
      expect(list.stdout).toMatch(/^NAME\s+DESCRIPTION\s+PERMISSIONS$/m);
      expect(list.stdout).toMatch(/^reader\s+Reads orders\s+orders:read \(https:\/\/orders\.example\.com\)$/m);
      expect(list.stdout).toMatch(/^admin\s+.*admin \(http:\/\/127\.0\.0\.1:\d+\/api\/v1\)$/m);

      const resources = JSON.parse((await latch('resources', 'list', '--json')).stdout) as { resource_servers: { identifier: string }[] };
      // RESOURCE_SERVERS seeds the database; Latch's own API is one too.
      expect(resources.resource_servers.map(({ identifier }) => identifier)).toEqual(expect.arrayContaining([ORDERS, 'https://seeded.example.com', running.config.oidc.apiResource]));

      // The same services: what the CLI made, the running Latch issues at once.
      const client = await latch('clients', 'create', '--grant', 'client_credentials', '--name', 'Order bot');
      const credentials = { clientId: printed(client, 'Client ID'), clientSecret: printed(client, 'Client secret') };
      await running.latch.authorization.assignments.assign({ client: credentials.clientId }, 'reader', 'admin');
      const token = await clientCredentialsTokenFor(credentials, { resource: ORDERS, scope: 'orders:read orders:write' });
      expect(decodeJwt(token)).toMatchObject({ aud: ORDERS, scope: 'orders:read', roles: ['reader'] });

      expect(await latch('roles', 'revoke', 'reader', ORDERS, 'orders:read')).toMatchObject({ code: 0 });
      expect(decodeJwt(await clientCredentialsTokenFor(credentials, { resource: ORDERS, scope: 'orders:read' })).scope).toBeUndefined();

      const removed = await latch('resources', 'permissions', 'remove', ORDERS, 'orders:write');
      expect(removed.stdout).toMatch(/Removed orders:write from https:\/\/orders\.example\.com/);
      expect((await latch('resources', 'permissions', 'list', ORDERS)).stdout).not.toMatch(/orders:write/);
    },
    MANY_COMMANDS_MS,
  );

  it(
    "refuses what the services refuse, with their reason: unknown names, duplicates, the built-in admin role and Latch's own API",
    async () => {
      expectRefused(await latch('roles', 'grant', 'no-such-role', ORDERS, 'orders:read'), /There is no role no-such-role\./);
      expectRefused(await latch('roles', 'delete', 'admin'), /The admin role is built in/);
      expectRefused(await latch('roles', 'create', 'admin'), /A role named admin already exists\./);
      expectRefused(await latch('resources', 'delete', running.config.oidc.apiResource), /is Latch's own API/);
      expectRefused(await latch('resources', 'create', 'not-a-uri'), /The request is invalid|identifier/);
    },
    MANY_COMMANDS_MS,
  );

  it(
    'makes an admin machine client with clients create --admin, whose token opens the admin API',
    async () => {
      const created = await latch('clients', 'create', '--admin', '--name', 'Ops');
      expect(created).toMatchObject({ code: 0 });
      expect(created.stdout).toMatch(/Grant types:\s+client_credentials\n/);
      expect(created.stdout).toMatch(/Admin:\s+may ask for the admin scope \(holds the admin role/);
      const token = await clientCredentialsTokenFor({ clientId: printed(created, 'Client ID'), clientSecret: printed(created, 'Client secret') }, { scope: 'admin' });

      expect(decodeJwt(token)).toMatchObject({ scope: 'admin', roles: ['admin'] });
      expect((await running.http().get('/api/v1/admin/roles').set('Authorization', `Bearer ${token}`)).status).toBe(200);
      expect((await latch('clients', 'show', printed(created, 'Client ID'))).stdout).toMatch(/May ask for admin:\s+yes/);
    },
    MANY_COMMANDS_MS,
  );
});

function clientCredentialsTokenFor(credentials: { clientId: string; clientSecret: string }, params: Record<string, string>): Promise<string> {
  return clientCredentialsToken(running, credentials, params.scope ?? '', params.resource);
}
