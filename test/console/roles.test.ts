import { formOf, type Page } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser } from '../support/sign-in.js';
import { query } from '../support/sql.js';
import { isSignInPage, postForm, signedInAdmin, signInToConsole } from './support.js';

const ORDERS = 'https://orders.example.com';

let running: RunningLatch;
/** Latch's clock runs this far ahead of the real one: for sign-ins that grow old. */
let offsetMs = 0;

beforeAll(async () => {
  running = await startLatch({ RESOURCE_SERVERS: JSON.stringify({ [ORDERS]: { scope: 'orders:read orders:write', clients: [] } }) }, { now: () => new Date(Date.now() + offsetMs) });
});

afterAll(async () => {
  await running?.stop();
});

const consoleUrl = (path = '') => `${running.baseUrl}/admin${path}`;
/** A name no other test's role has. */
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

/** The value of the option a select offers under this label. */
function optionValue(page: Page, label: string): string {
  const value = new RegExp(`<option value="([^"]+)">${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}</option>`).exec(page.html)?.[1];
  if (!value) throw new Error(`no option "${label}" on ${page.url.href}:\n${page.html}`);
  return value;
}

const actorsOf = (event: string, field: string, value: string) => query<{ actor: string }>(running.databaseUrl, `SELECT actor FROM audit_events WHERE event = $1 AND details->>'${field}' = $2 ORDER BY id`, [event, value]);

describe('the Roles and APIs page', () => {
  it('lists the APIs with their permissions and the roles with what they grant and how many users hold them', async () => {
    const { page } = await signedInAdmin(running, '/roles');
    expect(page.html).toContain('<h1>Roles and APIs</h1>');
    expect(page.html).toMatch(/<a href="\/admin\/roles" aria-current="page">Roles and APIs<\/a>/);
    // Latch's own API and the configured one, each with its permissions.
    expect(page.html).toContain(`>${running.config.oidc.apiResource}</a>`);
    expect(page.html).toContain(`>${ORDERS}</a>`);
    expect(page.html).toContain('<code>orders:read</code> <code>orders:write</code>');
    // The admin role, what it grants grouped by API, and its holders (this test's admin, at least) linked.
    const [admins] = await query<{ count: string }>(running.databaseUrl, "SELECT count(*) FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE r.name = 'admin'");
    expect(page.html).toContain('<a href="/admin/roles/admin">admin</a>');
    expect(page.html).toContain(`<a href="/admin/users?role=admin">${admins?.count}<span class="visually-hidden"> users holding admin</span></a>`);
    expect(page.headers.get('cache-control')).toBe('no-store');
  });

  it('registers an API, adds a permission, creates a role and grants it; revokes and removes; each audited with the admin', async () => {
    const { admin, browser, page } = await signedInAdmin(running, '/roles');
    const identifier = `https://${unique('billing')}.example.com`;
    const api = await postForm(browser, page, 'Register API', { identifier, name: 'Billing' });
    expect(api.url.pathname).toMatch(/^\/admin\/apis\/[0-9a-f-]{36}$/);
    expect(api.html).toContain('The API has been registered');
    expect(api.html).toContain('<h1>Billing</h1>');

    const added = await postForm(browser, api, 'Add permission', { value: 'invoices:read', description: 'Read invoices' });
    expect(added.html).toContain('The permission has been added.');
    expect(added.html).toContain('<code>invoices:read</code> <span class="hint">Read invoices</span>');

    const name = unique('billing-reader');
    const list = await browser.navigate(consoleUrl('/roles'));
    const role = await postForm(browser, list, 'Create role', { name, description: 'Reads the bills' });
    expect(role.url.href).toBe(consoleUrl(`/roles/${name}?done=created`));
    expect(role.html).toContain('This role grants no permission yet.');

    const granted = await postForm(browser, role, 'Grant', { permission: optionValue(role, 'invoices:read') });
    expect(granted.url.href).toBe(consoleUrl(`/roles/${name}?done=granted`));
    expect(granted.html).toContain('>Billing</a></h3>');
    expect(granted.html).toContain('Revoke<span class="visually-hidden"> invoices:read</span>');
    expect((await running.latch.authorization.roles.show(name)).permissions).toEqual([expect.objectContaining({ resource: identifier, value: 'invoices:read' })]);
    expect((await browser.navigate(consoleUrl('/roles'))).html).toMatch(new RegExp(`>Billing</a>: <code>invoices:read</code>`));

    const revoked = await postForm(browser, granted, 'Revoke invoices:read');
    expect(revoked.html).toContain('The permission has been revoked');
    expect((await running.latch.authorization.roles.show(name)).permissions).toEqual([]);

    const removed = await postForm(browser, await browser.navigate(api.url.href), 'Remove invoices:read');
    expect(removed.html).toContain('The permission has been removed');
    expect((await running.latch.authorization.resourceServers.show(identifier)).permissions).toEqual([]);

    expect(await actorsOf('resource_server.created', 'resource', identifier)).toEqual([{ actor: admin.id }]);
    expect(await actorsOf('permission.created', 'resource', identifier)).toEqual([{ actor: admin.id }]);
    expect(await actorsOf('permission.deleted', 'resource', identifier)).toEqual([{ actor: admin.id }]);
    expect(await actorsOf('role.created', 'role', name)).toEqual([{ actor: admin.id }]);
    expect(await actorsOf('role.permissions_granted', 'role', name)).toEqual([{ actor: admin.id }]);
    expect(await actorsOf('role.permissions_revoked', 'role', name)).toEqual([{ actor: admin.id }]);
  });

  it("shows the services' refusals next to their form as a 422 page, keeping what was typed", async () => {
    const { browser, page } = await signedInAdmin(running, '/roles');
    const badName = await postForm(browser, page, 'Create role', { name: 'no spaces allowed', description: 'kept' });
    expect(badName.status).toBe(422);
    expect(badName.html).toContain('<p class="alert" role="alert" id="role-error">The name must be 1 to 64 letters, digits');
    expect(badName.html).toContain('value="no spaces allowed"');
    expect(badName.html).toContain('value="kept"');

    const taken = await postForm(browser, badName, 'Create role', { name: 'admin' });
    expect(taken.status).toBe(422);
    expect(taken.html).toContain('A role named admin already exists.');

    const badApi = await postForm(browser, taken, 'Register API', { identifier: 'orders', name: 'Orders' });
    expect(badApi.status).toBe(422);
    expect(badApi.html).toContain('<p class="alert" role="alert" id="api-error">The identifier must be an absolute http(s) URI without a fragment.</p>');
    expect(badApi.html).toContain('value="orders"');
    const twice = await postForm(browser, badApi, 'Register API', { identifier: ORDERS });
    expect(twice.status).toBe(422);
    expect(twice.html).toContain(`A resource server ${ORDERS} already exists.`);

    const [{ id } = { id: '' }] = await query<{ id: string }>(running.databaseUrl, 'SELECT id FROM resource_servers WHERE identifier = $1', [ORDERS]);
    const orders = await browser.navigate(consoleUrl(`/apis/${id}`));
    const badValue = await postForm(browser, orders, 'Add permission', { value: 'has space' });
    expect(badValue.status).toBe(422);
    expect(badValue.html).toContain('The permission must be a scope token');
    expect(badValue.html).toContain('value="has space"');
    const existing = await postForm(browser, orders, 'Add permission', { value: 'orders:read' });
    expect(existing.status).toBe(422);
    expect(existing.html).toContain(`The resource server ${ORDERS} already has the permission orders:read.`);
  });

  it('answers an unknown role or API with a 404 page, and keeps the admin role from being deleted', async () => {
    const { browser } = await signedInAdmin(running, '/roles');
    const missingRole = await browser.navigate(consoleUrl('/roles/no-such-role'));
    expect(missingRole.status).toBe(404);
    expect(missingRole.html).toContain('No such role');
    const missingApi = await browser.navigate(consoleUrl('/apis/00000000-0000-4000-8000-000000000000'));
    expect(missingApi.status).toBe(404);
    expect(missingApi.html).toContain('No such API');

    // Forms sent with what no form offers: a page saying so, never a 500, and nothing changed.
    const adminPage = await browser.navigate(consoleUrl('/roles/admin'));
    const bogusGrant = await postForm(browser, adminPage, 'Grant', { permission: 'not-a-permission' });
    expect(bogusGrant.status).toBe(404);
    expect(bogusGrant.html).toContain('No such permission');
    const user = await createUser(running);
    const userPage = await browser.navigate(consoleUrl(`/users/${user.id}`));
    const unknownRole = await postForm(browser, userPage, 'Assign role', { role: 'no-such-role' });
    expect(unknownRole.status).toBe(404);
    expect(unknownRole.html).toContain('No such role');
    expect((await postForm(browser, userPage, 'Assign role', { role: '' })).status).toBe(400);
    expect((await running.latch.admin.users.show(user.id)).roles).toEqual([]);

    const adminRole = await browser.navigate(consoleUrl('/roles/admin'));
    expect(adminRole.html).toContain('Built in: this role opens the admin API');
    expect(adminRole.html).not.toContain('Delete this role');
    // Past the page, the service itself refuses: its words, on a page.
    const confirm = await browser.navigate(consoleUrl('/roles/admin/delete'));
    const refused = await postForm(browser, confirm, 'Delete role', { name: 'admin' });
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('The admin role stays');
    expect(refused.html).toContain('cannot be deleted, renamed');
    expect((await running.latch.authorization.roles.show('admin')).name).toBe('admin');
  });

  it('refuses a form without its anti-forgery token with a 403 page, changing nothing', async () => {
    const { browser } = await signedInAdmin(running, '/roles');
    const name = unique('csrf');
    await running.latch.authorization.roles.create({ name }, 'admin');
    const role = await browser.navigate(consoleUrl(`/roles/${name}`));
    const form = formOf(role, 'Grant');
    const forged = await browser.navigate(form.action, { method: 'POST', body: new URLSearchParams({ csrf: 'x'.repeat(43), permission: optionValue(role, 'orders:read') }) });
    expect(forged.status).toBe(403);
    expect(forged.html).toContain('This form could not be verified');
    const user = await createUser(running);
    const userPage = await browser.navigate(consoleUrl(`/users/${user.id}`));
    const assign = formOf(userPage, 'Assign role');
    expect((await browser.navigate(assign.action, { method: 'POST', body: new URLSearchParams({ role: name }) })).status).toBe(403);
    expect((await running.latch.authorization.roles.show(name)).permissions).toEqual([]);
    expect((await running.latch.admin.users.show(user.id)).roles).toEqual([]);
  });
});

describe('deleting a role', () => {
  it('asks for its name on a confirmation page and a sign-in of the last five minutes (max_age), then audits it with the admin', async () => {
    const { admin, browser } = await signedInAdmin(running, '/roles');
    const name = unique('doomed');
    await running.latch.authorization.roles.create({ name }, 'admin');
    const holder = await createUser(running);
    await running.latch.admin.roles.assign({ user: holder.id }, name, 'admin');

    const role = await browser.navigate(consoleUrl(`/roles/${name}`));
    const confirm = await browser.navigate(new URL(/<a href="([^"]+)">Delete this role…<\/a>/.exec(role.html)?.[1] ?? '', running.baseUrl));
    expect(confirm.html).toContain(`Delete the role ${name}?`);
    expect(confirm.html).toContain('The one user and every client holding it lose it');
    const wrong = await postForm(browser, confirm, 'Delete role', { name: 'something-else' });
    expect(wrong.status).toBe(422);
    expect(wrong.html).toContain('nothing was deleted');

    offsetMs += 6 * 60 * 1000;
    try {
      const stale = await postForm(browser, wrong, 'Delete role', { name });
      expect(stale.status).toBe(403);
      expect(stale.html).toContain('Sign in again first');
      expect((await running.latch.authorization.roles.show(name)).name).toBe(name);

      const again = await browser.navigate(consoleUrl(`/roles/${name}/delete`));
      expect(isSignInPage(again)).toBe(true);
      // oidc-provider stamps auth_time from the real clock: back to it, so that the new sign-in is the recent one it is.
      offsetMs = 0;
      const back = await signInToConsole(browser, again, admin);
      expect(back.url.href).toBe(consoleUrl(`/roles/${name}/delete`));
      const deleted = await postForm(browser, back, 'Delete role', { name });
      expect(deleted.url.href).toBe(consoleUrl('/roles?done=deleted'));
      expect(deleted.html).toContain('The role has been deleted');
      expect(deleted.html).not.toContain(`>${name}</a>`);
    } finally {
      offsetMs = 0;
    }
    expect((await running.latch.admin.users.show(holder.id)).roles).toEqual([]);
    expect(await actorsOf('role.deleted', 'role', name)).toEqual([{ actor: admin.id }]);
  });
});

describe('roles on the users pages', () => {
  it('filter the users list by role, keeping the filter in the next page link, and refuse an unknown role', async () => {
    const { browser } = await signedInAdmin(running, '/users');
    const name = unique('pager');
    await running.latch.authorization.roles.create({ name }, 'admin');
    // 51 holders, written at once (no one signs in as them): one more than a page.
    await query(
      running.databaseUrl,
      `WITH made AS (
         INSERT INTO users (id, email, password_hash, updated_at)
         SELECT gen_random_uuid(), $1 || '-' || n || '@example.com', 'not-a-hash', now() FROM generate_series(1, 51) AS n RETURNING id),
       profiled AS (INSERT INTO profiles (user_id, updated_at) SELECT id, now() FROM made)
       INSERT INTO user_roles (user_id, role_id) SELECT made.id, r.id FROM made, roles r WHERE r.name = $1`,
      [name],
    );
    const outsider = await createUser(running);

    const first = await browser.navigate(consoleUrl(`/users?role=${name}`));
    const emailsOn = (page: Page) => [...page.html.matchAll(/<a href="\/admin\/users\/[0-9a-f-]+">([^<]+)<\/a>/g)].map((match) => match[1]);
    expect(first.html).toContain(`<option value="${name}" selected>${name}</option>`);
    expect(emailsOn(first)).toHaveLength(50);
    const next = /<a href="([^"]+)" rel="next">/.exec(first.html)?.[1]?.replaceAll('&amp;', '&') ?? '';
    expect(new URL(next, running.baseUrl).searchParams.get('role')).toBe(name);
    const second = await browser.navigate(new URL(next, running.baseUrl));
    expect(emailsOn(second)).toHaveLength(1);
    expect(new Set([...emailsOn(first), ...emailsOn(second)]).size).toBe(51);
    expect([...emailsOn(first), ...emailsOn(second)]).not.toContain(outsider.email);
    // With the search box too, as search as you type sends the whole form.
    expect(emailsOn(await browser.navigate(consoleUrl(`/users?q=${name}-7&role=${name}`)))).toEqual([`${name}-7@example.com`]);

    const unknown = await browser.navigate(consoleUrl('/users?role=no-such-role'));
    expect(unknown.status).toBe(400);
    expect(unknown.html).toContain('The role filter names no role.');
  });

  it("assign and unassign a role on the user's page, audited with the admin", async () => {
    const { admin, browser } = await signedInAdmin(running, '/users');
    const name = unique('support');
    await running.latch.authorization.roles.create({ name }, 'admin');
    const user = await createUser(running);

    const page = await browser.navigate(consoleUrl(`/users/${user.id}`));
    expect(page.html).toContain('This user holds no role.');
    const assigned = await postForm(browser, page, 'Assign role', { role: name });
    expect(assigned.url.href).toBe(consoleUrl(`/users/${user.id}?done=assigned`));
    expect(assigned.html).toContain('The role has been assigned');
    expect(assigned.html).toContain(`<a href="/admin/roles/${name}">${name}</a>`);
    expect((await running.latch.admin.users.show(user.id)).roles).toEqual([name]);
    // A role held is not offered again.
    expect(assigned.html).not.toContain(`<option value="${name}">`);

    const unassigned = await postForm(browser, assigned, `Unassign ${name}`);
    expect(unassigned.url.href).toBe(consoleUrl(`/users/${user.id}?done=unassigned`));
    expect(unassigned.html).toContain('The role has been taken from the user');
    expect((await running.latch.admin.users.show(user.id)).roles).toEqual([]);
    // Posted again (a second tab): nothing to take, and the page says so.
    const again = await postForm(browser, assigned, `Unassign ${name}`);
    expect(again.html).toContain('The user did not hold this role: nothing changed.');

    const events = await query<{ event: string; actor: string; subject_id: string }>(running.databaseUrl, "SELECT event, actor, subject_id FROM audit_events WHERE event LIKE 'role.%assigned' AND details->>'role' = $1 ORDER BY id", [name]);
    expect(events).toEqual([
      { event: 'role.assigned', actor: admin.id, subject_id: user.id },
      { event: 'role.unassigned', actor: admin.id, subject_id: user.id },
    ]);
  });

  it('let an admin take the admin role from themselves, say that the console closes, and close it', async () => {
    const { admin, browser } = await signedInAdmin(running, '/users');
    const page = await browser.navigate(consoleUrl(`/users/${admin.id}`));
    const left = await postForm(browser, page, 'Unassign admin');
    expect(left.status).toBe(200);
    expect(left.html).toContain('You have taken the admin role from yourself: the admin console closes to you at your next click.');
    const [event] = await query<{ actor: string }>(running.databaseUrl, "SELECT actor FROM audit_events WHERE event = 'role.unassigned' AND subject_id = $1", [admin.id]);
    expect(event?.actor).toBe(admin.id);
    const closed = await browser.navigate(consoleUrl('/users'));
    expect(closed.status).toBe(403);
    expect(closed.html).toContain('This is for administrators');
  });
});
