import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { MANY_COMMANDS_MS, runCli } from '../support/cli.js';
import { registerClient } from '../support/clients.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { relyingParty, signIn } from '../support/sign-in.js';
import { query } from '../support/sql.js';

const password = 'correct horse battery staple';

let running: RunningLatch;
let directory: string;

beforeAll(async () => {
  running = await startLatch();
  directory = await mkdtemp(join(tmpdir(), 'latch-users-transfer-'));
});

afterAll(async () => {
  await running?.stop();
  await rm(directory, { recursive: true, force: true });
});

/** The CLI on a database (the running Latch's by default). */
const latch = (args: string[], { stdin = '', databaseUrl = running.databaseUrl } = {}) => runCli(running, args, { stdin, env: { DATABASE_URL: databaseUrl } });

const jsonl = (...lines: unknown[]) => lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n';

describe('latch users import / export', () => {
  it(
    'imports a file, reports the bad lines by number, and the imported bcrypt user signs in',
    async () => {
      const file = join(directory, 'users.jsonl');
      await writeFile(
        file,
        jsonl(
          { email: 'grace@example.com', email_verified: true, name: 'Grace Hopper', password_hash: bcrypt.hashSync(password, 4) },
          'not json',
          { email: 'linus@example.com', password_hash: 'plaintext-password' },
        ),
      );

      const run = await latch(['users', 'import', file]);

      expect(run).toMatchObject({ code: 0 });
      const [summary, first, second, ...rest] = run.stdout.split('\n');
      expect([summary, first, rest]).toEqual(['Imported 1 users; skipped 2 lines.', '  line 2: not valid JSON', ['']]);
      expect(second).toMatch(/^ {2}line 3: password_hash: unsupported password hash format/);
      // Not a terminal: no progress bar redrawing itself into a log.
      expect(run.stderr).not.toContain('\r');

      const app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
      const { tokens } = await signIn(app, { email: 'grace@example.com', password });
      expect(tokens.claims()?.name).toBe('Grace Hopper');
    },
    MANY_COMMANDS_MS,
  );

  it(
    'reads stdin with -, and prints the summary as JSON with --json',
    async () => {
      const run = await latch(['users', 'import', '-', '--json'], { stdin: jsonl({ email: 'stdin@example.com' }, { email: 'grace@example.com' }) });

      expect(run).toMatchObject({ code: 0 });
      expect(JSON.parse(run.stdout)).toEqual({ imported: 1, skipped: 1, errors: [{ line: 2, reason: 'a user with this email or id already exists' }] });
    },
    MANY_COMMANDS_MS,
  );

  it(
    'refuses a missing file or a missing argument in words, exit code 1',
    async () => {
      const missing = await latch(['users', 'import', join(directory, 'nope.jsonl')]);
      expect(missing).toMatchObject({ code: 1, stdout: '' });
      expect(missing.stderr).toMatch(/Cannot read .*nope\.jsonl: ENOENT\./);

      const none = await latch(['users', 'import']);
      expect(none).toMatchObject({ code: 1, stdout: '' });
      expect(none.stderr).toMatch(/users import takes one file \(or - for stdin\)/);
      expect(none.stderr).toMatch(/latch users export \[<file\.jsonl>\] \[--with-password-hashes\]/);
    },
    MANY_COMMANDS_MS,
  );

  describe('export', () => {
    let fresh: TestDatabase;

    beforeAll(async () => {
      fresh = await createTestDatabase();
    });

    afterAll(async () => {
      await fresh?.drop();
    });

    it(
      'writes JSON lines to stdout without hashes, and to an owner-only file with them, which imports elsewhere as the same users',
      async () => {
        const plain = await latch(['users', 'export']);
        expect(plain).toMatchObject({ code: 0 });
        const lines = plain.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(lines.map((line) => line.email).sort()).toEqual(['grace@example.com', 'stdin@example.com']);
        expect(plain.stdout).not.toContain('password_hash');
        expect(plain.stderr).toContain('Exported 2 users.');

        const file = join(directory, 'export.jsonl');
        const withHashes = await latch(['users', 'export', file, '--with-password-hashes']);
        expect(withHashes).toMatchObject({ code: 0, stdout: '' });
        expect((await stat(file)).mode & 0o777).toBe(0o600);
        // Grace's bcrypt hash became Latch's argon2id when she signed in above.
        expect(await readFile(file, 'utf8')).toMatch(/"password_hash":"\$argon2id\$/);

        const imported = await latch(['users', 'import', file, '--json'], { databaseUrl: fresh.url });
        expect(JSON.parse(imported.stdout)).toEqual({ imported: 2, skipped: 0, errors: [] });
        const rows = (url: string) => query(url, 'select u.id, u.email::text, u.email_verified, u.password_hash, p.name from users u join profiles p on p.user_id = u.id order by u.id');
        expect(await rows(fresh.url)).toEqual(await rows(running.databaseUrl));
      },
      MANY_COMMANDS_MS,
    );
  });
});
