import { createAccountService } from '../../../src/account/account-service.js';
import { loadCommonPasswords } from '../../../src/account/common-passwords.js';
import { createPasswordHasher } from '../../../src/account/password-hasher.js';
import { createPasswordPolicy } from '../../../src/account/password-policy.js';
import { createUserExport } from '../../../src/account/transfer/user-export.js';
import { createUserImport, type ImportSummary } from '../../../src/account/transfer/user-import.js';
import { createPrismaUserRepository } from '../../../src/account/user-repository.js';
import { createAuditLog } from '../../../src/audit/audit-log.js';
import { createConnectionPool, createPrismaClient } from '../../../src/db/prisma.js';
import { createLogger } from '../../../src/logger.js';
import { createTestDatabase } from '../../support/database.js';
import { FIREBASE_VECTOR, foreignHashes } from '../../support/foreign-hashes.js';
import { query } from '../../support/sql.js';

const password = 'correct horse battery staple';
const light = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
const logger = createLogger('silent');

/** Everything the import and export need, on a database of its own. */
async function openLatchDatabase() {
  const database = await createTestDatabase();
  const pool = createConnectionPool(database.url, { poolMax: 3 });
  const prisma = createPrismaClient(pool);
  const audit = createAuditLog({ prisma, logger });
  const users = createPrismaUserRepository(prisma);
  const accounts = createAccountService({ users, hasher: createPasswordHasher(light), policy: createPasswordPolicy({ commonPasswords: loadCommonPasswords() }), audit, logger });
  return {
    database,
    prisma,
    pool,
    accounts,
    importer: createUserImport({ pool, audit }),
    exporter: createUserExport({ users, pool, audit }),
    async close() {
      await prisma.$disconnect();
      await database.drop();
    },
  };
}
type LatchDatabase = Awaited<ReturnType<typeof openLatchDatabase>>;

const jsonl = (...lines: unknown[]) => [lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n')];
const run = (db: LatchDatabase, chunks: (string | Buffer)[]): Promise<ImportSummary> => db.importer.importUsers(chunks, { actor: 'admin' });
const count = async (url: string, table: string) => Number((await query<{ n: string }>(url, `select count(*) as n from ${table}`))[0]?.n);

describe('user import and export', () => {
  let db: LatchDatabase;
  let hashes: Record<string, string>;

  beforeAll(async () => {
    db = await openLatchDatabase();
    hashes = await foreignHashes(password);
  });

  afterAll(async () => {
    await db?.close();
  });

  it('imports users whole, with their claims and hashes, and reports each bad line by number without writing it', async () => {
    const summary = await run(
      db,
      jsonl(
        { email: ' Ada@Example.com ', email_verified: true, name: 'Ada Lovelace', given_name: 'Ada', locale: 'en-GB', phone_number: '+44 20 7946 0000', phone_number_verified: true, password_hash: hashes['bcrypt $2b$'] },
        '{"email": "broken@example.com",',
        { email: 'not an address' },
        { email: 'typo@example.com', nmae: 'Typo' },
        { email: 'md5@example.com', password_hash: '$1$abc$def' },
        { email: 'ada@example.com', name: 'Ada again' },
        { email: 'role@example.com', roles: ['nobody-has-this-role'] },
        { email: 'site@example.com', website: 'javascript:alert(1)' },
        { email: 'firebase@example.com', password_hash: FIREBASE_VECTOR.export },
        { email: 'nopassword@example.com', status: 'disabled' },
      ),
    );

    expect(summary).toEqual({
      imported: 3,
      skipped: 7,
      errors: [
        { line: 2, reason: 'not valid JSON' },
        { line: 3, reason: 'email: Enter a valid email address.' },
        { line: 4, reason: expect.stringMatching(/^line: Unrecognized key: "nmae"/) },
        { line: 5, reason: expect.stringMatching(/^password_hash: unsupported password hash format/) },
        { line: 6, reason: 'the same email or id as line 1' },
        { line: 7, reason: 'unknown role: nobody-has-this-role' },
        { line: 8, reason: 'website: Enter an http or https address.' },
      ],
    });
    const [ada] = await query<Record<string, unknown>>(
      db.database.url,
      `select u.email::text, u.email_verified, u.status::text, p.name, p.given_name, p.locale, p.phone_number, p.phone_number_verified
       from users u join profiles p on p.user_id = u.id where u.email = 'ada@example.com'`,
    );
    expect(ada).toEqual({ email: 'Ada@Example.com', email_verified: true, status: 'active', name: 'Ada Lovelace', given_name: 'Ada', locale: 'en-GB', phone_number: '+44 20 7946 0000', phone_number_verified: true });
    expect(await count(db.database.url, 'users')).toBe(3);
    expect(await count(db.database.url, 'profiles')).toBe(3);

    expect((await db.accounts.authenticate('ada@example.com', password))?.profile.name).toBe('Ada Lovelace');
    expect(await db.accounts.authenticate('firebase@example.com', FIREBASE_VECTOR.password)).not.toBeNull();
    // Imported without a hash: no password works until a reset sets one.
    expect(await db.accounts.authenticate('nopassword@example.com', '!')).toBeNull();
  });

  it('skips users already in Latch, in any letter case, or by id, and leaves them unchanged', async () => {
    const [existing] = await query<{ id: string }>(db.database.url, "select id::text from users where email = 'ada@example.com'");
    const summary = await run(db, jsonl({ email: 'ADA@example.com', name: 'Impostor' }, { id: existing?.id, email: 'other@example.com' }, { email: 'new@example.com' }));

    expect(summary).toEqual({
      imported: 1,
      skipped: 2,
      errors: [
        { line: 1, reason: 'a user with this email or id already exists' },
        { line: 2, reason: 'a user with this email or id already exists' },
      ],
    });
    expect((await db.accounts.authenticate('ada@example.com', password))?.profile.name).toBe('Ada Lovelace');
  });

  it('writes in batches, reports progress, and catches duplicates across batches', async () => {
    const lines = Array.from({ length: 2200 }, (_, index) => ({ email: `bulk-${index % 2100}@example.com`, name: `Bulk ${index}`, password_hash: hashes['pbkdf2-sha256'] }));
    const progress: number[] = [];
    const summary = await db.importer.importUsers(jsonl(...lines), { actor: 'admin', onProgress: ({ lines: read }) => progress.push(read) });

    expect(summary.imported).toBe(2100);
    expect(summary.skipped).toBe(100);
    expect(summary.errors[0]).toEqual({ line: 2101, reason: 'a user with this email or id already exists' });
    expect(progress).toEqual([1000, 2000, 2200]);
    const events = await query<{ actor: string; details: unknown }>(db.database.url, "select actor, details from audit_events where event = 'users.imported' order by id desc limit 1");
    expect(events).toEqual([{ actor: 'admin', details: { lines: 2200, imported: 2100, skipped: 100 } }]);
  });

  it('assigns the roles a line names, by name, with the user', async () => {
    await query(db.database.url, "insert into roles (id, name) values (gen_random_uuid(), 'support'), (gen_random_uuid(), 'billing')");
    const summary = await run(db, jsonl({ email: 'roles@example.com', roles: ['support', 'billing', 'support'] }, { email: 'half@example.com', roles: ['support', 'nope'] }));

    expect(summary).toEqual({ imported: 1, skipped: 1, errors: [{ line: 2, reason: 'unknown role: nope' }] });
    const roles = await query<{ name: string }>(db.database.url, "select r.name from user_roles ur join roles r on r.id = ur.role_id join users u on u.id = ur.user_id where u.email = 'roles@example.com' order by r.name");
    expect(roles.map((role) => role.name)).toEqual(['billing', 'support']);
    expect(await query(db.database.url, "select 1 from users where email = 'half@example.com'")).toEqual([]);
  });

  it('stops at the line limit it is given, and says so', async () => {
    const summary = await db.importer.importUsers(jsonl({ email: 'limit-1@example.com' }, { email: 'limit-2@example.com' }, { email: 'limit-3@example.com' }), { actor: 'admin', maxLines: 2 });
    expect(summary).toEqual({ imported: 2, skipped: 1, errors: [{ line: 3, reason: 'an import takes at most 2 lines: this line and those after it were not read' }] });
  });

  describe('export', () => {
    let exported: string[];
    let target: LatchDatabase;

    const collect = async (source: LatchDatabase, withPasswordHashes: boolean) => {
      const lines: string[] = [];
      for await (const line of source.exporter.exportUsers({ withPasswordHashes, actor: 'admin' })) lines.push(line);
      return lines;
    };

    beforeAll(async () => {
      exported = await collect(db, true);
      target = await openLatchDatabase();
      await query(target.database.url, "insert into roles (id, name) values (gen_random_uuid(), 'support'), (gen_random_uuid(), 'billing')");
    });

    afterAll(async () => {
      await target?.close();
    });

    it('writes every user once, as import lines, hashes only when asked', async () => {
      expect(exported).toHaveLength(await count(db.database.url, 'users'));
      const ada = JSON.parse(exported.find((line) => line.includes('Ada Lovelace')) as string);
      expect(ada).toEqual({
        id: expect.any(String),
        email: 'Ada@Example.com',
        email_verified: true,
        status: 'active',
        name: 'Ada Lovelace',
        given_name: 'Ada',
        locale: 'en-GB',
        phone_number: '+44 20 7946 0000',
        phone_number_verified: true,
        roles: [],
        // Imported as bcrypt, upgraded when Ada signed in above.
        password_hash: expect.stringMatching(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/),
      });
      expect(JSON.parse(exported.find((line) => line.includes('"roles@example.com"')) as string)).toMatchObject({ roles: ['billing', 'support'] });
      // The user imported without a password has none to export.
      expect(JSON.parse(exported.find((line) => line.includes('nopassword@')) as string)).not.toHaveProperty('password_hash');

      const withoutHashes = await collect(db, false);
      expect(withoutHashes).toHaveLength(exported.length);
      expect(withoutHashes.some((line) => line.includes('password_hash'))).toBe(false);
    });

    it('round-trips: a fresh database importing the export has the same users, who sign in with their passwords', async () => {
      const summary = await target.importer.importUsers(exported, { actor: 'admin' });
      expect(summary).toEqual({ imported: exported.length, skipped: 0, errors: [] });
      expect(await collect(target, true)).toEqual(exported);

      expect(await target.accounts.authenticate('ada@example.com', password)).not.toBeNull();
      expect(await target.accounts.authenticate('firebase@example.com', FIREBASE_VECTOR.password)).not.toBeNull();
      expect(await target.accounts.authenticate('bulk-7@example.com', password)).not.toBeNull();
      expect(await target.accounts.authenticate('bulk-7@example.com', 'wrong password')).toBeNull();
    });
  });
});
