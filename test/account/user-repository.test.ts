import { randomUUID } from 'node:crypto';
import { EmailTakenError, UserNotFoundError } from '../../src/account/errors.js';
import { createPrismaUserRepository, type UserRepository } from '../../src/account/user-repository.js';
import type { ProfilePatch } from '../../src/account/user.js';
import { createPrismaClient, type PrismaClient } from '../../src/db/prisma.js';
import { createTestDatabase } from '../support/database.js';
import { query } from '../support/sql.js';

// The repository never judges a hash; any string stands in for one.
const passwordHash = '$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

describe('Prisma user repository', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let prisma: PrismaClient;
  let users: UserRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
    users = createPrismaUserRepository(prisma);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  const count = async (table: 'users' | 'profiles') => Number((await query<{ n: string }>(database.url, `select count(*) as n from ${table}`))[0]?.n);

  it('creates a user with its profile and finds it by id and by email in any case', async () => {
    const created = await users.create({ email: 'Ada.Lovelace@Example.com', passwordHash, profile: { name: 'Ada Lovelace' } });

    expect(created).toMatchObject({ email: 'Ada.Lovelace@Example.com', emailVerified: false, status: 'active' });
    expect(created.profile).toMatchObject({ name: 'Ada Lovelace', givenName: null, phoneNumberVerified: false });
    expect(created).not.toHaveProperty('passwordHash');
    expect(await users.findById(created.id)).toEqual(created);
    expect(await users.findByEmail('ada.lovelace@example.COM')).toEqual(created);
    expect(await users.findByEmail('grace@example.com')).toBeNull();
    expect(await users.findById(randomUUID())).toBeNull();
    expect(await users.findById('not-a-uuid')).toBeNull();
  });

  it('gives the hash only through the credentials reads', async () => {
    const created = await users.create({ email: 'credentials@example.com', passwordHash });

    const credentials = { userId: created.id, email: 'credentials@example.com', status: 'active', passwordHash };
    expect(await users.findCredentialsByEmail('CREDENTIALS@example.com')).toEqual(credentials);
    expect(await users.findCredentialsById(created.id)).toEqual(credentials);
    expect(await users.findCredentialsByEmail('nobody@example.com')).toBeNull();
  });

  it('reads a sign-in (credentials and the whole user) by email in any case, in one statement', async () => {
    const created = await users.create({ email: 'Sign.In@example.com', passwordHash, profile: { name: 'Sign In', phoneNumber: '+15550100' } });

    expect(await users.findSignInByEmail('sign.in@EXAMPLE.com')).toEqual({
      credentials: { userId: created.id, email: 'Sign.In@example.com', status: 'active', passwordHash },
      user: created,
    });
    expect(await users.findSignInByEmail('nobody@example.com')).toBeNull();
    expect(await users.findById(created.id)).not.toHaveProperty('passwordHash');
  });

  it('reads a sign-in in one statement with a companion, answered whether or not the email names a user, and a column over the user found', async () => {
    const created = await users.create({ email: 'along@example.com', passwordHash, profile: { name: 'Along' } });
    // The companion's parameters come first; the repository numbers the email after them.
    const companion = { items: 'probe AS (SELECT $1::int + $2::int AS n)', values: [40, 2], select: '(SELECT n FROM probe)', read: Number };
    const withUser = { select: (id: string) => `(SELECT name FROM profiles WHERE user_id = ${id})`, read: String };

    expect(await users.findSignInAlong('ALONG@example.com', { companion, withUser })).toEqual({
      companion: 42,
      found: { credentials: { userId: created.id, email: 'along@example.com', status: 'active', passwordHash }, user: created, withUser: 'Along' },
    });
    expect(await users.findSignInAlong('nobody@example.com', { companion, withUser })).toEqual({ companion: 42, found: null });
  });

  it('refuses an email already in use in another case, writing nothing', async () => {
    await users.create({ email: 'taken@example.com', passwordHash, profile: { name: 'First' } });
    const [usersBefore, profilesBefore] = [await count('users'), await count('profiles')];

    await expect(users.create({ email: 'TAKEN@Example.com', passwordHash, profile: { name: 'Second' } })).rejects.toBeInstanceOf(EmailTakenError);

    expect([await count('users'), await count('profiles')]).toEqual([usersBefore, profilesBefore]);
    const rows = await query<{ name: string }>(database.url, `select p.name from users u join profiles p on p.user_id = u.id where u.email = 'taken@example.com'`);
    expect(rows).toEqual([{ name: 'First' }]);
  });

  it('patches only the claims given, clears those set to null, and ignores keys that are not claims', async () => {
    const { id } = await users.create({ email: 'patch@example.com', passwordHash, profile: { name: 'Old Name', nickname: 'old' } });
    const other = await users.create({ email: 'other@example.com', passwordHash });
    const stray = { userId: other.id } as ProfilePatch;

    const updated = await users.updateProfile(id, { ...stray, givenName: 'Grace', nickname: null, locale: 'en-GB' });

    expect(updated.profile).toMatchObject({ name: 'Old Name', givenName: 'Grace', nickname: null, locale: 'en-GB' });
    expect(await users.findById(id)).toEqual(updated);
    expect((await users.findById(other.id))?.profile.givenName).toBeNull();
  });

  it('replaces the password hash and sets the status', async () => {
    const { id } = await users.create({ email: 'status@example.com', passwordHash });

    await users.updatePasswordHash(id, 'new-hash');
    expect((await users.findCredentialsById(id))?.passwordHash).toBe('new-hash');

    const locked = await users.setStatus(id, 'locked');
    expect(locked.status).toBe('locked');
    expect((await users.findById(id))?.status).toBe('locked');
  });

  it('deletes the user and, by cascade, its profile', async () => {
    const { id } = await users.create({ email: 'delete@example.com', passwordHash, profile: { name: 'Gone Soon' } });

    await users.delete(id);

    expect(await users.findById(id)).toBeNull();
    expect(await query(database.url, 'select 1 from profiles where user_id = $1', [id])).toEqual([]);
  });

  it.each([randomUUID(), 'not-a-uuid'])('throws UserNotFoundError when writing to a user that does not exist (%s)', async (id) => {
    await expect(users.updateProfile(id, { name: 'x' })).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(users.updatePasswordHash(id, 'x')).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(users.setStatus(id, 'disabled')).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(users.delete(id)).rejects.toBeInstanceOf(UserNotFoundError);
  });
});
