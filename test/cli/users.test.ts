import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { PASSWORD } from '../support/sign-in.js';
import { query } from '../support/sql.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');
const KEY_ENCRYPTION_KEY = Buffer.alloc(32, 9).toString('base64url');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch({ LATCH_KEY_ENCRYPTION_KEY: KEY_ENCRYPTION_KEY });
});

afterAll(async () => {
  await running?.stop();
});

/** `npm run latch -- ...` as its own process on the running Latch's database; `stdin` is piped to it (never a terminal). */
function latch(args: string[], stdin = ''): Promise<Run> {
  const environment = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    DATABASE_URL: running.databaseUrl,
    ISSUER: running.baseUrl,
    LATCH_KEY_ENCRYPTION_KEY: KEY_ENCRYPTION_KEY,
    LATCH_COOKIE_KEYS: 'a cookie key that is long enough to be accepted',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_ITERATIONS: '1',
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsxCli, '--disable-warning=ExperimentalWarning', 'src/cli.ts', ...args], { cwd: projectRoot, env: environment });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function expectRefused(run: Run, message: RegExp) {
  expect(run).toMatchObject({ code: 1, stdout: '' });
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/** Each command is a process of its own (tsx, a pool, the schema check): seconds each on a busy machine. */
const MANY_COMMANDS_MS = 180_000;

const json = (run: Run) => {
  expect(run).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(run.stdout) as Record<string, unknown>;
};

describe('latch users', () => {
  it('lists its verbs in --help, and refuses an unknown verb or option with a suggestion', async () => {
    const help = await latch(['--help']);
    for (const verb of ['list', 'show', 'create', 'update', 'disable', 'enable', 'delete']) expect(help.stdout).toContain(`latch users ${verb}`);
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
