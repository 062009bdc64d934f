import { PassThrough } from 'node:stream';
import { createAccountService, type AccountService } from '../../src/account/account-service.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { loadCommonPasswords } from '../../src/account/common-passwords.js';
import { EmailTakenError, UserNotFoundError } from '../../src/account/errors.js';
import { createPasswordHasher, type PasswordHasher } from '../../src/account/password-hasher.js';
import { createPasswordPolicy } from '../../src/account/password-policy.js';
import { createPrismaUserRepository, type UserRepository } from '../../src/account/user-repository.js';
import type { Argon2Parameters } from '../../src/config.js';
import { createPrismaClient, type PrismaClient } from '../../src/db/prisma.js';
import { ValidationError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';
import { medianMilliseconds } from './timing.js';

// Far below production cost, to keep the suite fast.
const light: Argon2Parameters = { memoryCost: 8192, timeCost: 1, parallelism: 1 };
const password = 'correct horse battery staple';

describe('account service', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;
  let users: UserRepository;
  let accounts: AccountService;
  const logLines: string[] = [];
  const policy = createPasswordPolicy({ commonPasswords: loadCommonPasswords() });

  const serviceWith = (argon2: Argon2Parameters) => {
    const logStream = new PassThrough();
    logStream.on('data', (chunk: Buffer) => logLines.push(chunk.toString('utf8')));
    const logger = createLogger('trace', logStream);
    return createAccountService({ users, hasher: createPasswordHasher(argon2), policy, audit: createAuditLog({ prisma, logger }), logger });
  };
  const storedHash = async (email: string) => (await query<{ password_hash: string }>(database.url, 'select password_hash from users where email = $1', [email]))[0]?.password_hash;
  const issuesOf = async (promise: Promise<unknown>) => {
    const error: unknown = await promise.then(() => undefined, (rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues.map((issue) => issue.field);
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
    users = createPrismaUserRepository(prisma);
    accounts = serviceWith(light);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  describe('register', () => {
    it('trims and NFC-normalises the email, keeps its case, and stores an argon2id hash', async () => {
      const user = await accounts.register({ email: '  Ame\u0301lie@Example.com\n', password, name: 'Amélie' });

      expect(user.email).toBe('Am\u00e9lie@Example.com');
      expect(user.profile.name).toBe('Amélie');
      expect(await storedHash('amélie@example.com')).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$/);
    });

    it('reports every invalid field at once and writes nothing', async () => {
      const before = await query(database.url, 'select id from users');

      expect(await issuesOf(accounts.register({ email: 'not an email', password: 'short' }))).toEqual(['email', 'password']);
      expect(await issuesOf(accounts.register({ email: 'ok@example.com', password: 'password1' }))).toEqual(['password']);
      expect(await issuesOf(accounts.register({ email: 'ok@example.com', password, name: 'x'.repeat(256) }))).toEqual(['name']);

      expect(await query(database.url, 'select id from users')).toEqual(before);
    });

    it('refuses an email already registered in another case, writing nothing', async () => {
      await accounts.register({ email: 'dup@example.com', password });
      const counts = `select (select count(*) from users) as users, (select count(*) from profiles) as profiles`;
      const before = await query(database.url, counts);

      await expect(accounts.register({ email: ' DUP@Example.COM ', password: 'another fine passphrase' })).rejects.toBeInstanceOf(EmailTakenError);

      expect(await query(database.url, counts)).toEqual(before);
    });
  });

  describe('authenticate', () => {
    beforeAll(() => accounts.register({ email: 'grace@example.com', password }));

    it('returns the user for the right password, whatever the email case', async () => {
      expect(await accounts.authenticate(' GRACE@example.com', password)).toMatchObject({ email: 'grace@example.com', status: 'active' });
    });

    it('returns null for a wrong password and for an unknown email', async () => {
      expect(await accounts.authenticate('grace@example.com', 'correct horse battery stapler')).toBeNull();
      expect(await accounts.authenticate('nobody@example.com', password)).toBeNull();
    });

    it('accepts the password typed in another Unicode form', async () => {
      await accounts.register({ email: 'ligature@example.com', password: 'of\ufb01ce party 2024' });
      expect(await accounts.authenticate('ligature@example.com', 'office party 2024')).not.toBeNull();
    });

    it('takes about as long for an unknown email as for a wrong password', async () => {
      const wrongPassword = await medianMilliseconds(() => accounts.authenticate('grace@example.com', 'not the password'));
      const unknownEmail = await medianMilliseconds(() => accounts.authenticate('nobody@example.com', 'not the password'));
      // Loose bounds: without the dummy verification the unknown email takes a small fraction of the time.
      expect(unknownEmail / wrongPassword).toBeGreaterThan(0.5);
      expect(unknownEmail / wrongPassword).toBeLessThan(2);
    });

    it('rehashes transparently when the configured parameters have changed', async () => {
      await accounts.register({ email: 'rehash@example.com', password });
      const before = await storedHash('rehash@example.com');
      const upgraded = serviceWith({ ...light, timeCost: 2 });

      expect(await upgraded.authenticate('rehash@example.com', 'wrong password')).toBeNull();
      expect(await storedHash('rehash@example.com')).toBe(before);

      expect(await upgraded.authenticate('rehash@example.com', password)).not.toBeNull();
      const after = await storedHash('rehash@example.com');
      expect(after).not.toBe(before);
      expect(after).toMatch(/^\$argon2id\$v=19\$m=8192,t=2,p=1\$/);

      expect(await upgraded.authenticate('rehash@example.com', password)).not.toBeNull();
      expect(await storedHash('rehash@example.com')).toBe(after);
    });
  });

  describe('authenticateAlong', () => {
    beforeAll(() => accounts.register({ email: 'along@example.com', password }));

    // A gate of the test's own, in the same statement as the read: the sign-in throttle's count in the service.
    const gate = (allowed: boolean) => ({ items: 'gate AS (SELECT $1::boolean AS allowed)', values: [allowed], select: '(SELECT allowed FROM gate)', read: (value: unknown) => ({ allowed: value === true }) });
    const withUser = { select: (id: string) => `(SELECT email_verified FROM users WHERE id = ${id})`, read: Boolean };

    it('checks the password only when the gate allows it, and gives what was read with the user', async () => {
      const signedIn = await accounts.authenticateAlong('ALONG@example.com', password, { gate: gate(true), withUser });
      expect(signedIn).toMatchObject({ gate: { allowed: true }, signedIn: { user: { email: 'along@example.com' }, withUser: false } });
      expect(await accounts.authenticateAlong('along@example.com', 'not the password', { gate: gate(true), withUser })).toEqual({ gate: { allowed: true }, signedIn: null });
      expect(await accounts.authenticateAlong('nobody@example.com', password, { gate: gate(true), withUser })).toEqual({ gate: { allowed: true }, signedIn: null });
    });

    it('verifies no hash and records nothing when the gate refuses, even for the right password', async () => {
      let verified = 0;
      const hasher = createPasswordHasher(light);
      const counting: PasswordHasher = {
        hash: (plain) => hasher.hash(plain),
        verify: (hash, attempt) => {
          verified += 1;
          return hasher.verify(hash, attempt);
        },
        verifyDummy: (attempt) => {
          verified += 1;
          return hasher.verifyDummy(attempt);
        },
      };
      const refusals = async () => (await query(database.url, "select 1 from audit_events where event = 'account.sign_in_refused'")).length;
      const logger = createLogger('silent', new PassThrough());
      const guarded = createAccountService({ users, hasher: counting, policy, audit: createAuditLog({ prisma, logger }), logger });
      const before = await refusals();

      expect(await guarded.authenticateAlong('along@example.com', password, { gate: gate(false), withUser })).toEqual({ gate: { allowed: false }, signedIn: null });
      expect(await guarded.authenticateAlong('nobody@example.com', password, { gate: gate(false), withUser })).toEqual({ gate: { allowed: false }, signedIn: null });
      expect(verified).toBe(0);
      expect(await refusals()).toBe(before);

      await guarded.authenticateAlong('nobody@example.com', password, { gate: gate(true), withUser });
      expect(verified).toBe(1);
    });
  });

  describe('changePassword', () => {
    it('replaces the password: the old one stops working, the new one works', async () => {
      const { id } = await accounts.register({ email: 'change@example.com', password });

      await accounts.changePassword(id, password, 'a brand new passphrase');

      expect(await accounts.authenticate('change@example.com', password)).toBeNull();
      expect(await accounts.authenticate('change@example.com', 'a brand new passphrase')).not.toBeNull();
    });

    it('requires the current password and a new one that meets the policy, changing nothing otherwise', async () => {
      const { id } = await accounts.register({ email: 'keep@example.com', password });
      const before = await storedHash('keep@example.com');

      expect(await issuesOf(accounts.changePassword(id, 'wrong current', 'a brand new passphrase'))).toEqual(['currentPassword']);
      expect(await issuesOf(accounts.changePassword(id, password, 'keep@example.com'))).toEqual(['newPassword']);
      expect(await issuesOf(accounts.changePassword(id, 'wrong current', 'qwerty123'))).toEqual(['currentPassword', 'newPassword']);

      expect(await storedHash('keep@example.com')).toBe(before);
    });

    it('throws UserNotFoundError for an unknown user', async () => {
      await expect(accounts.changePassword('0190b6a4-0000-7000-8000-000000000000', password, 'a brand new passphrase')).rejects.toBeInstanceOf(UserNotFoundError);
    });
  });

  describe('updateProfile', () => {
    it('validates and applies the changes, treating blank as cleared', async () => {
      const { id } = await accounts.register({ email: 'profile@example.com', password, name: 'Old' });

      const user = await accounts.updateProfile(id, { name: '  Ada King ', givenName: 'Ada', website: 'https://ada.example', nickname: '   ' });
      expect(user.profile).toMatchObject({ name: 'Ada King', givenName: 'Ada', website: 'https://ada.example', nickname: null });

      expect(await issuesOf(accounts.updateProfile(id, { website: 'javascript:alert(1)', birthdate: '12/10/1815' }))).toEqual(['website', 'birthdate']);
      expect((await users.findById(id))?.profile.website).toBe('https://ada.example');
    });

    it('clears phone_number_verified when the phone number changes, and only then', async () => {
      const { id } = await accounts.register({ email: 'phone@example.com', password });
      await users.updateProfile(id, { phoneNumber: '+44 20 7946 0000', phoneNumberVerified: true });

      expect((await accounts.updateProfile(id, { phoneNumber: '+44 20 7946 0000', name: 'Same Phone' })).profile.phoneNumberVerified).toBe(true);
      expect((await accounts.updateProfile(id, { phoneNumber: '+44 20 7946 0999' })).profile.phoneNumberVerified).toBe(false);
    });
  });

  describe('disable and delete', () => {
    it('refuses sign-in to a disabled account, even with the right password', async () => {
      const { id } = await accounts.register({ email: 'disabled@example.com', password });

      expect((await accounts.disable(id)).status).toBe('disabled');

      expect(await accounts.authenticate('disabled@example.com', password)).toBeNull();
    });

    it('deletes the account and its profile', async () => {
      const { id } = await accounts.register({ email: 'deleted@example.com', password, name: 'Deleted' });

      await accounts.delete(id);

      expect(await users.findById(id)).toBeNull();
      expect(await query(database.url, 'select 1 from profiles where user_id = $1', [id])).toEqual([]);
      expect(await accounts.authenticate('deleted@example.com', password)).toBeNull();
      await expect(accounts.delete(id)).rejects.toBeInstanceOf(UserNotFoundError);
    });
  });

  it('never logs a password or a hash', async () => {
    const logs = logLines.join('');
    expect(logs).toContain('account.sign_in_refused');
    expect(logs).toContain('account.password_rehashed');
    for (const secret of [password, 'correct horse battery stapler', 'a brand new passphrase', 'not the password', '$argon2']) {
      expect(logs).not.toContain(secret);
    }
  });
});
