import type { CompanionQuery, CorrelatedColumn } from '../db/companion-statement.js';
import type { Database } from '../db/prisma.js';
import { Prisma, type Profile as ProfileRow, type User as UserRow } from '../generated/prisma/client.js';
import { EmailTakenError, UserNotFoundError } from './errors.js';
import type { Profile, ProfilePatch, User, UserStatus } from './user.js';

export interface NewUser {
  email: string;
  /** Only an administrator creates a user whose address is already verified. */
  emailVerified?: boolean;
  passwordHash: string;
  profile?: ProfilePatch;
}

/** Just what checking a password needs: one single-table read, as cheap for a found user as for a missing one. */
export interface UserCredentials {
  userId: string;
  email: string;
  status: UserStatus;
  passwordHash: string;
}

export interface SignInRead {
  credentials: UserCredentials;
  user: User;
}

/** What the admin listing filters by; every filter given must hold. */
export interface UserSearch {
  /** A case-insensitive substring of the email or the name. */
  query?: string;
  status?: UserStatus;
  /** Holding the role of this name. */
  role?: string;
  /** Only rows after this one in the listing's order (created_at, id). */
  after?: { at: Date; id: string };
  limit: number;
}

/** The account's own fields an administrator sets; an absent one is kept. */
export interface AccountChanges {
  email?: string;
  emailVerified?: boolean;
  status?: UserStatus;
}

/** Accounts storage. Write operations on an id that does not exist throw UserNotFoundError. */
export interface UserRepository {
  /** Creates the user and its profile together; EmailTakenError when the email is in use in any letter case. */
  create(user: NewUser): Promise<User>;
  findById(id: string): Promise<User | null>;
  /** Case-insensitive. */
  findByEmail(email: string): Promise<User | null>;
  /** The only reads that return a password hash, for verifying a password. */
  findCredentialsByEmail(email: string): Promise<UserCredentials | null>;
  findCredentialsById(id: string): Promise<UserCredentials | null>;
  /**
   * What a sign-in needs, in one statement: the credentials and the user they would sign in, so
   * a found user costs the same single read as a missing one and a right password no second read.
   */
  findSignInByEmail(email: string): Promise<SignInRead | null>;
  /**
   * The same read, in one statement with a companion that runs first (the sign-in throttle's count)
   * and a column read with the user found (the factors they hold): the companion answers whether or
   * not the email names a user.
   */
  findSignInAlong<C, W>(email: string, along: { companion: CompanionQuery<C>; withUser: CorrelatedColumn<W> }): Promise<{ companion: C; found: (SignInRead & { withUser: W }) | null }>;
  updateProfile(id: string, patch: ProfilePatch): Promise<User>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  setStatus(id: string, status: UserStatus): Promise<User>;
  /** Marks the address verified if it is still the user's address; false when it is not (changed since, or no such user). */
  markEmailVerified(id: string, email: string): Promise<boolean>;
  /** Replaces the address with one its owner has just confirmed (so verified); EmailTakenError when another account has it. */
  changeEmail(id: string, email: string): Promise<User>;
  /** Deletes the user; the database cascades to the profile. */
  delete(id: string): Promise<void>;
  /** Users in a stable order (created_at, id): keyset pages, each served by an index. */
  search(search: UserSearch): Promise<User[]>;
  /** EmailTakenError when another account has the new address. */
  updateAccount(id: string, changes: AccountChanges): Promise<User>;
  /** Every user with its password hash, by id, `limit` at a time after `afterId`: an export's keyset pages. */
  listWithHashes(afterId: string | undefined, limit: number): Promise<{ user: User; passwordHash: string }[]>;
}

// The hash stays in the database unless a credentials read asks for it.
const userQuery = { include: { profile: true }, omit: { passwordHash: true } } as const;
const credentialsQuery = { select: { id: true, email: true, status: true, passwordHash: true } } as const;

export function createPrismaUserRepository(prisma: Database): UserRepository {
  return {
    async create({ email, emailVerified, passwordHash, profile = {} }) {
      try {
        // A nested create runs in one transaction: a taken email leaves neither user nor profile behind.
        const row = await prisma.user.create({
          data: { email, emailVerified, passwordHash, profile: { create: profileData(profile) } },
          ...userQuery,
        });
        return toUser(row);
      } catch (error) {
        // users.email is the only unique column a caller can collide with (ids are generated, profiles keyed by them).
        if (isKnownError(error, 'P2002')) throw new EmailTakenError({ cause: error });
        throw error;
      }
    },

    async findById(id) {
      if (!isUuid(id)) return null;
      const [row] = await prisma.$queryRaw<JoinedRow[]>`${selectJoined} where u.id = ${id}::uuid`;
      return row ? joinedUser(row) : null;
    },

    async findByEmail(email) {
      const [row] = await prisma.$queryRaw<JoinedRow[]>`${selectJoined} where u.email = ${email}::citext`;
      return row ? joinedUser(row) : null;
    },

    async findSignInByEmail(email) {
      const [row] = await prisma.$queryRaw<JoinedRow[]>`${selectJoined} where u.email = ${email}::citext`;
      return row ? signInOf(row) : null;
    },

    async findSignInAlong(email, { companion, withUser }) {
      // One row always, for the companion's answer; the user's columns are NULL when none is found.
      const [row] = await prisma.$queryRawUnsafe<[Partial<JoinedRow> & { companion: unknown; with_user: unknown }]>(
        `WITH ${companion.items}
         SELECT ${companion.select} AS companion, found.*
         FROM (VALUES (1)) AS host
         LEFT JOIN (SELECT joined.*, ${withUser.select('joined.id::uuid')} AS with_user
                    FROM (${selectJoined.sql} where u.email = $${companion.values.length + 1}::citext) joined) found ON true`,
        ...companion.values,
        email,
      );
      const { companion: answer, with_user: withUserValue, ...joined } = row;
      return {
        companion: companion.read(answer),
        found: typeof joined.id === 'string' ? { ...signInOf(joined as JoinedRow), withUser: withUser.read(withUserValue) } : null,
      };
    },

    async findCredentialsByEmail(email) {
      const row = await prisma.user.findUnique({ where: { email }, ...credentialsQuery });
      return row && toCredentials(row);
    },

    async findCredentialsById(id) {
      if (!isUuid(id)) return null;
      const row = await prisma.user.findUnique({ where: { id }, ...credentialsQuery });
      return row && toCredentials(row);
    },

    updateProfile: (id, patch) =>
      writeExisting(id, async () => toUser(await prisma.user.update({ where: { id }, data: { profile: { update: profileData(patch) } }, ...userQuery }))),

    updatePasswordHash: (id, passwordHash) =>
      writeExisting(id, async () => {
        await prisma.user.update({ where: { id }, data: { passwordHash }, select: { id: true } });
      }),

    setStatus: (id, status) => writeExisting(id, async () => toUser(await prisma.user.update({ where: { id }, data: { status }, ...userQuery }))),

    async markEmailVerified(id, email) {
      if (!isUuid(id)) return false;
      const { count } = await prisma.user.updateMany({ where: { id, email }, data: { emailVerified: true } });
      return count === 1;
    },

    changeEmail: (id, email) =>
      writeExisting(id, async () => {
        try {
          return toUser(await prisma.user.update({ where: { id }, data: { email, emailVerified: true }, ...userQuery }));
        } catch (error) {
          if (isKnownError(error, 'P2002')) throw new EmailTakenError({ cause: error });
          throw error;
        }
      }),

    delete: (id) =>
      writeExisting(id, async () => {
        await prisma.user.delete({ where: { id }, select: { id: true } });
      }),

    async search({ query, status, role, after, limit }) {
      // The same filters on whichever alias a part of the query gives the users table.
      const filters = (alias: Prisma.Sql) => [
        ...(status === undefined ? [] : [Prisma.sql`${alias}.status = ${status}::"UserStatus"`]),
        ...(role === undefined ? [] : [Prisma.sql`exists (select 1 from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = ${alias}.id and r.name = ${role})`]),
        ...(after === undefined ? [] : [Prisma.sql`(${alias}.created_at, ${alias}.id) > (${after.at}, ${after.id}::uuid)`]),
      ];
      const where = (conditions: Prisma.Sql[]) => (conditions.length === 0 ? Prisma.empty : Prisma.sql`where ${Prisma.join(conditions, ' and ')}`);
      const u = Prisma.raw('u');
      if (query === undefined || query === '') {
        return (await prisma.$queryRaw<JoinedRow[]>`${selectJoined} ${where(filters(u))} order by u.created_at, u.id limit ${limit}`).map(joinedUser);
      }
      // One ordered, limited part per table, so that the planner picks for each what suits the text:
      // its trigram index for a rare one, or the (created_at, id) index, stopping at `limit`, for a
      // common one. (An OR across the join could use neither.) Email is compared as text, the type
      // gin_trgm_ops indexes it as.
      const pattern = containing(query);
      const [e, x] = [Prisma.raw('e'), Prisma.raw('x')];
      const rows = await prisma.$queryRaw<JoinedRow[]>`${selectJoined} where u.id in (
        (select e.id from users e ${where([Prisma.sql`e.email::text ilike ${pattern}`, ...filters(e)])} order by e.created_at, e.id limit ${limit})
        union all
        (select x.id from users x join profiles n on n.user_id = x.id ${where([Prisma.sql`n.name ilike ${pattern}`, ...filters(x)])} order by x.created_at, x.id limit ${limit})
      ) order by u.created_at, u.id limit ${limit}`;
      return rows.map(joinedUser);
    },

    updateAccount: (id, { email, emailVerified, status }) =>
      writeExisting(id, async () => {
        try {
          return toUser(await prisma.user.update({ where: { id }, data: { email, emailVerified, status }, ...userQuery }));
        } catch (error) {
          if (isKnownError(error, 'P2002')) throw new EmailTakenError({ cause: error });
          throw error;
        }
      }),

    async listWithHashes(afterId, limit) {
      const after = afterId === undefined ? Prisma.empty : Prisma.sql`where u.id > ${afterId}::uuid`;
      const rows = await prisma.$queryRaw<JoinedRow[]>`${selectJoined} ${after} order by u.id limit ${limit}`;
      return rows.map((row) => ({ user: joinedUser(row), passwordHash: row.password_hash }));
    },
  };
}

/** An ILIKE pattern matching `text` anywhere, its own wildcards taken literally. */
function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** Runs a write that targets one existing user, turning "no such row" into UserNotFoundError. */
async function writeExisting<T>(id: string, write: () => Promise<T>): Promise<T> {
  // Ids are UUIDs: anything else cannot name a user, and PostgreSQL would reject it as a type error.
  if (!isUuid(id)) throw new UserNotFoundError();
  try {
    return await write();
  } catch (error) {
    if (isKnownError(error, 'P2025')) throw new UserNotFoundError({ cause: error });
    throw error;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(id: string): boolean {
  return UUID.test(id);
}

function isKnownError(error: unknown, code: 'P2002' | 'P2025'): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === code;
}

/**
 * Copies only the claims, so that a stray key in a patch (a userId, say) never reaches the query.
 * The return type names every claim, so a claim added to Profile fails to compile until it is listed here.
 */
function profileData(patch: ProfilePatch): { [Claim in keyof Required<ProfilePatch>]: ProfilePatch[Claim] } {
  return {
    name: patch.name,
    givenName: patch.givenName,
    familyName: patch.familyName,
    middleName: patch.middleName,
    nickname: patch.nickname,
    preferredUsername: patch.preferredUsername,
    picture: patch.picture,
    website: patch.website,
    gender: patch.gender,
    birthdate: patch.birthdate,
    zoneinfo: patch.zoneinfo,
    locale: patch.locale,
    phoneNumber: patch.phoneNumber,
    phoneNumberVerified: patch.phoneNumberVerified,
  };
}

/**
 * A user and its profile in one statement. Prisma's `include` makes that two queries (one per table)
 * without the relationJoins preview, and these reads run on every sign-in, refresh and userinfo call.
 * The hash is selected too and dropped by joinedUser unless a sign-in asks for it.
 */
const selectJoined = Prisma.sql`select u.id::text as id, u.email::text as email, u.email_verified, u.password_hash, u.status::text as status,
  u.created_at, u.updated_at, p.user_id::text as profile_user_id, p.name, p.given_name, p.family_name, p.middle_name, p.nickname,
  p.preferred_username, p.picture, p.website, p.gender, p.birthdate, p.zoneinfo, p.locale, p.phone_number, p.phone_number_verified,
  p.updated_at as profile_updated_at
  from users u left join profiles p on p.user_id = u.id`;

interface JoinedRow {
  id: string;
  email: string;
  email_verified: boolean;
  password_hash: string;
  status: UserStatus;
  created_at: Date;
  updated_at: Date;
  profile_user_id: string | null;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  middle_name: string | null;
  nickname: string | null;
  preferred_username: string | null;
  picture: string | null;
  website: string | null;
  gender: string | null;
  birthdate: string | null;
  zoneinfo: string | null;
  locale: string | null;
  phone_number: string | null;
  phone_number_verified: boolean;
  profile_updated_at: Date;
}

function signInOf(row: JoinedRow): SignInRead {
  const user = joinedUser(row);
  return { user, credentials: { userId: user.id, email: user.email, status: user.status, passwordHash: row.password_hash } };
}

function joinedUser(row: JoinedRow): User {
  if (row.profile_user_id === null) throw new Error(`User ${row.id} has no profile: users are only ever created with one.`);
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.email_verified,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    profile: {
      name: row.name,
      givenName: row.given_name,
      familyName: row.family_name,
      middleName: row.middle_name,
      nickname: row.nickname,
      preferredUsername: row.preferred_username,
      picture: row.picture,
      website: row.website,
      gender: row.gender,
      birthdate: row.birthdate,
      zoneinfo: row.zoneinfo,
      locale: row.locale,
      phoneNumber: row.phone_number,
      phoneNumberVerified: row.phone_number_verified,
      updatedAt: row.profile_updated_at,
    },
  };
}

type UserWithProfileRow = Omit<UserRow, 'passwordHash'> & { profile: ProfileRow | null };

function toCredentials({ id, email, status, passwordHash }: Pick<UserRow, 'id' | 'email' | 'status' | 'passwordHash'>): UserCredentials {
  return { userId: id, email, status, passwordHash };
}

function toUser(row: UserWithProfileRow): User {
  if (!row.profile) throw new Error(`User ${row.id} has no profile: users are only ever created with one.`);
  return {
    id: row.id,
    email: row.email,
    emailVerified: row.emailVerified,
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    profile: toProfile(row.profile),
  };
}

function toProfile(row: ProfileRow): Profile {
  const { userId: _userId, ...profile } = row;
  return profile;
}
