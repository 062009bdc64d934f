import { randomUUID } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { expectRefused, MANY_COMMANDS_MS, runCli, type CliRun } from '../support/cli.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { PASSWORD } from '../support/sign-in.js';
import { query } from '../support/sql.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch();
});

afterAll(async () => {
  await running?.stop();
});

/** Cheap argon2 parameters: the commands that set passwords hash in a process of their own. */
const latch = (args: string[], stdin = '') => runCli(running, args, { stdin, env: { ARGON2_MEMORY_KIB: '8192', ARGON2_ITERATIONS: '1' } });

const json = (run: CliRun) => {
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as Record<string, unknown>;
};

describe('latch users', () => {
  it('lists its verbs in --help, and refuses an unknown verb or option with a suggestion', async () => {
    const help = await latch(['--help']);
    for (const verb of ['list', 'show', 'create', 'update', 'disable', 'enable', 'delete', 'roles']) expect(help.stdout).toContain(`latch users ${verb}`);
    expectRefused(await latch(['users', 'dissable', 'x']), /unknown subcommand: users dissable\. Did you mean disable\?/);
    expectRefused(await latch(['users', 'list', '--statsu', 'active']), /unknown option --statsu\. Did you mean --status\?/);
    expectRefused(await latch(['users', 'list', '--status', 'gone']), /--status must be active, disabled, locked/);
  }, MANY_COMMANDS_MS);

  it('never takes a password from argv', async () => {
    const email = `argv-${randomUUID()}@example.com`;
    expectRefused(await latch(['users', 'create', '--email', email, '--password', PASSWORD]), /takes no --password.*stdin/s);
    expectRefused(await latch(['users', 'create', `--password=${PASSWORD}`, '--email', email]), /takes no --password/);
    expect(await query(running.databaseUrl, 'select 1 from users where email = $1', [email])).toEqual([]);
  });

  it('creates a user with the password from stdin, then finds, updates, disables, enables and deletes it', async () => {
    const email = `cli-${randomUUID()}@example.com`;
    const created = json(await latch(['users', 'create', '--email', email, '--name', 'Cli Person', '--verified', '--json'], `${PASSWORD}\n`));
    const user = created.user as { id: string; email: string; email_verified: boolean; name: string };
    expect(user).toMatchObject({ email, email_verified: true, name: 'Cli Person' });
    expect(created).not.toHaveProperty('password_reset_link');
    expect(await running.latch.accounts.authenticate(email, PASSWORD)).toMatchObject({ id: user.id });
    expectRefused(await latch(['users', 'create', '--email', email.toUpperCase()], PASSWORD), /already exists/);

    const listed = await latch(['users', 'list', '--query', email.slice(4, 20).toUpperCase()]);
    expect(listed.code).toBe(0);
    const [header, row] = listed.stdout.split('\n');
    expect(header).toMatch(/^ID\s+EMAIL\s+NAME\s+STATUS\s+VERIFIED\s+CREATED$/);
    // Aligned: every column starts where its header does.
    expect(row?.indexOf(email)).toBe(header?.indexOf('EMAIL'));
    expect(row).toMatch(/Cli Person\s+active\s+yes/);

    const shown = await latch(['users', 'show', email]);
    expect(shown.stdout).toMatch(new RegExp(`ID:\\s+${user.id}`));
    expect(shown.stdout).toMatch(/Status:\s+active/);
    expect(json(await latch(['users', 'show', user.id, '--json']))).toMatchObject({ id: user.id, sessions: 0, grants: 0 });

    expect(json(await latch(['users', 'update', email, '--name', 'Renamed', '--unverified', '--json']))).toMatchObject({ name: 'Renamed', email_verified: false });
    expectRefused(await latch(['users', 'update', email]), /needs something to change/);

    const disabled = await latch(['users', 'disable', email]);
    expect(disabled.stdout).toMatch(/Disabled user .* status disabled/);
    expect(await running.latch.accounts.authenticate(email, PASSWORD)).toBeNull();
    expect(json(await latch(['users', 'enable', user.id, '--json']))).toMatchObject({ status: 'active' });
    expect(await running.latch.accounts.authenticate(email, PASSWORD)).toMatchObject({ id: user.id });

    expectRefused(await latch(['users', 'delete', email]), /Not a terminal.*--yes/s);
    expect(await running.latch.accounts.findActive(user.id)).not.toBeNull();
    expect((await latch(['users', 'delete', email, '--yes'])).stdout).toMatch(/Deleted user/);
    expect(await running.latch.accounts.findActive(user.id)).toBeNull();
    expectRefused(await latch(['users', 'show', email]), /No such account/);

    // Each change is in the trail, by the CLI's actor.
    const trail = json(await latch(['audit', 'list', '--user', user.id, '--json']));
    const events = (trail.events as { event: string; actor: string }[]).map(({ event, actor }) => `${event} ${actor}`);
    expect(events).toEqual(expect.arrayContaining(['account.created admin', 'account.updated admin', 'account.disabled admin', 'account.enabled admin', 'account.deleted admin']));
  }, MANY_COMMANDS_MS);

  it('creates a user without a password (nothing on stdin), who is mailed a link to choose one', async () => {
    const email = `invited-${randomUUID()}@example.com`;
    const run = await latch(['users', 'create', '--email', email]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/No password given: a link to choose one has been mailed/);
    // Queued by the CLI, delivered by the running Latch's worker.
    expect(await query(running.databaseUrl, 'select kind from mail_outbox where recipient = $1', [email])).toEqual([{ kind: 'password_reset' }]);
  });

  it('makes the first admin with --role admin, and adds and removes roles with users roles', async () => {
    const email = `first-admin-${randomUUID()}@example.com`;
    const created = await latch(['users', 'create', '--email', email, '--role', 'admin'], PASSWORD);
    expect(created.stdout).toMatch(/Created user .* with the role\(s\) admin\./);
    expect(json(await latch(['users', 'roles', email, '--json']))).toEqual({ roles: ['admin'] });
    expect(json(await latch(['users', 'list', '--query', email, '--role', 'admin', '--json']))).toMatchObject({ users: [expect.objectContaining({ email })] });
    expect(json(await latch(['users', 'roles', email, '--remove', 'admin', '--json']))).toEqual({ roles: [] });
    expectRefused(await latch(['users', 'roles', email, '--add', 'no-such-role']), /no-such-role/);
    expectRefused(await latch(['users', 'create', '--email', `other-${email}`, '--role', 'no-such-role'], PASSWORD), /roles: there is no role no-such-role/);
    expect(await query(running.databaseUrl, 'select 1 from users where email = $1', [`other-${email}`])).toEqual([]);
  }, MANY_COMMANDS_MS);

  it('pages with --limit and --cursor', async () => {
    const tag = randomUUID().slice(0, 8);
    for (let n = 0; n < 3; n += 1) await running.latch.admin.users.create({ email: `paged-${n}-${tag}@example.com`, password: PASSWORD }, 'admin');
    const first = json(await latch(['users', 'list', '--query', tag, '--limit', '2', '--json']));
    expect((first.users as { email: string }[]).map((user) => user.email)).toEqual([`paged-0-${tag}@example.com`, `paged-1-${tag}@example.com`]);
    const second = json(await latch(['users', 'list', '--query', tag, '--limit', '2', '--cursor', first.next_cursor as string, '--json']));
    expect(second).toEqual({ users: [expect.objectContaining({ email: `paged-2-${tag}@example.com` })], next_cursor: null });
    expectRefused(await latch(['users', 'list', '--cursor', 'forged']), /cursor is not valid/);
  }, MANY_COMMANDS_MS);
});

describe('latch users factors reset', () => {
  it("removes a user's second factors and recovery codes, audited as the admin's", async () => {
    const user = await running.latch.accounts.register({ email: `factors-${randomUUID()}@example.com`, password: PASSWORD });
    const { factors } = running.latch;
    const enrolment = await factors.startTotp(user);
    await factors.confirmTotp(user.id, enrolment.factorId, new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate());
    expect(await factors.hasSecondFactor(user.id)).toBe(true);

    const run = await latch(['users', 'factors', 'reset', user.email]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/Reset the second factors of .*: 1 removed, recovery codes voided/);
    expect(await factors.hasSecondFactor(user.id)).toBe(false);
    expect(await factors.unusedRecoveryCodes(user.id)).toBe(0);
    expect(await query(running.databaseUrl, "SELECT actor FROM audit_events WHERE subject_id = $1 AND event = 'factor.reset'", [user.id])).toEqual([{ actor: 'admin' }]);

    expectRefused(await latch(['users', 'factors', 'list', user.email]), /users factors takes reset/);
    expectRefused(await latch(['users', 'factors', 'reset', 'nobody@example.com']), /No such account/);
  }, MANY_COMMANDS_MS);
});
