import type pg from 'pg';
import type { AuditLog } from '../../audit/audit-log.js';
import { uuidV7 } from '../../db/uuid-v7.js';
import type { ImportedUser } from './user-line.js';
import { parseUserLine } from './user-line.js';
import { readLines } from './json-lines.js';

export interface LineError {
  line: number;
  reason: string;
}

export interface ImportSummary {
  imported: number;
  /** Every line not imported; the first of them, with their reasons, are in `errors`. */
  skipped: number;
  errors: LineError[];
}

export interface ImportProgress {
  lines: number;
  imported: number;
  skipped: number;
}

export interface ImportOptions {
  /** Who imports, for the audit trail: "admin" (the CLI), "client:<id>", a user id. */
  actor: string;
  /** Called after each batch is written. */
  onProgress?(progress: ImportProgress): void;
  /** Lines past this one are not read: the rest is reported as one error. Unbounded when absent. */
  maxLines?: number;
}

export interface UserImport {
  /**
   * Imports the users of a JSON lines stream, one per line (src/account/transfer/user-line.ts), in
   * batches of one transaction each: a user is written whole (account, profile, roles) or not at all.
   * A line that is not a valid user, names an unknown role, has an unsupported hash, or whose email
   * or id is taken (already in Latch, or by an earlier line) is skipped and reported with its
   * number; existing users are never changed.
   */
  importUsers(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, options: ImportOptions): Promise<ImportSummary>;
}

/** Rows per transaction: large enough that a round trip is cheap per user, small enough to hold locks briefly. */
const BATCH_SIZE = 1000;
/** The longest line read: a generous profile is a few KiB; anything far beyond is not a user. */
export const MAX_LINE_LENGTH = 64 * 1024;
/** Reasons kept for the summary; the count of skipped lines is always complete. */
const MAX_REPORTED_ERRORS = 1000;

interface PendingUser {
  line: number;
  id: string;
  user: ImportedUser;
}

export function createUserImport({ pool, audit }: { pool: pg.Pool; audit: AuditLog }): UserImport {
  return {
    async importUsers(source, { actor, onProgress, maxLines = Number.POSITIVE_INFINITY }) {
      const summary: ImportSummary = { imported: 0, skipped: 0, errors: [] };
      let lines = 0;
      const skip = (line: number, reason: string) => {
        summary.skipped += 1;
        if (summary.errors.length < MAX_REPORTED_ERRORS) summary.errors.push({ line, reason });
      };
      let batch: PendingUser[] = [];
      // The batch's emails (lower-cased, as citext compares them) and ids, to the line that has them.
      let taken = new Map<string, number>();
      const flush = async () => {
        const { written, unknownRoles } = await writeBatch(pool, batch);
        for (const pending of batch) {
          const unknownRole = unknownRoles.get(pending.id);
          if (written.has(pending.id)) summary.imported += 1;
          else skip(pending.line, unknownRole === undefined ? 'a user with this email or id already exists' : `unknown role: ${unknownRole}`);
        }
        batch = [];
        taken = new Map();
        onProgress?.({ lines, imported: summary.imported, skipped: summary.skipped });
      };

      for await (const line of readLines(source, { maxLength: MAX_LINE_LENGTH })) {
        if (line.number > maxLines) {
          skip(line.number, `an import takes at most ${maxLines} lines: this line and those after it were not read`);
          break;
        }
        lines = line.number;
        if ('tooLong' in line) {
          skip(line.number, `longer than ${MAX_LINE_LENGTH} characters`);
          continue;
        }
        const parsed = parseUserLine(line.text);
        if (!parsed.ok) {
          skip(line.number, parsed.reason);
          continue;
        }
        const id = parsed.user.id ?? uuidV7();
        const email = parsed.user.email.toLowerCase();
        const earlier = taken.get(email) ?? taken.get(id);
        if (earlier !== undefined) {
          skip(line.number, `the same email or id as line ${earlier}`);
          continue;
        }
        batch.push({ line: line.number, id, user: parsed.user });
        taken.set(email, line.number).set(id, line.number);
        if (batch.length === BATCH_SIZE) await flush();
      }
      if (batch.length > 0) await flush();
      // The trigram indexes of the admin search take new rows into a GIN pending list, which every search reads
      // whole until autovacuum merges it: after a bulk import, merged now, so the search is fast at once. A role
      // that may not maintain the indexes (not their owner) leaves it to autovacuum: the users are in either way.
      if (summary.imported > 0) await pool.query(CLEAN_SEARCH_INDEXES).catch(() => undefined);

      await audit.record('users.imported', { actor, lines, imported: summary.imported, skipped: summary.skipped });
      // Reasons found at write time (taken, unknown role) come after those of later lines found at read time.
      summary.errors.sort((a, b) => a.line - b.line);
      return summary;
    },
  };
}

const PROFILE_COLUMNS = [
  ['name', 'name'],
  ['given_name', 'givenName'],
  ['family_name', 'familyName'],
  ['middle_name', 'middleName'],
  ['nickname', 'nickname'],
  ['preferred_username', 'preferredUsername'],
  ['picture', 'picture'],
  ['website', 'website'],
  ['gender', 'gender'],
  ['birthdate', 'birthdate'],
  ['zoneinfo', 'zoneinfo'],
  ['locale', 'locale'],
  ['phone_number', 'phoneNumber'],
] as const;

// unnest() takes one array per column, so a batch is one statement with a fixed number of parameters, whatever its size.
const INSERT_USERS = `INSERT INTO users (id, email, email_verified, password_hash, status, created_at, updated_at)
  SELECT id, email, email_verified, password_hash, status::"UserStatus", now(), now()
  FROM unnest($1::uuid[], $2::citext[], $3::boolean[], $4::text[], $5::text[]) AS u(id, email, email_verified, password_hash, status)
  ON CONFLICT DO NOTHING
  RETURNING id::text`;

const CLEAN_SEARCH_INDEXES = "SELECT gin_clean_pending_list('users_email_trgm_idx'::regclass), gin_clean_pending_list('profiles_name_trgm_idx'::regclass)";

const INSERT_PROFILES = `INSERT INTO profiles (user_id, ${PROFILE_COLUMNS.map(([column]) => column).join(', ')}, phone_number_verified, updated_at)
  SELECT *, now() FROM unnest($1::uuid[], ${PROFILE_COLUMNS.map((_, index) => `$${index + 2}::text[]`).join(', ')}, $${PROFILE_COLUMNS.length + 2}::boolean[])`;

/**
 * Writes the batch in one transaction and returns the ids written. A user whose email or id is
 * taken is left out by ON CONFLICT DO NOTHING rather than failing the batch, so the others go in;
 * one naming a role that does not exist is left out before anything is written.
 */
async function writeBatch(pool: pg.Pool, batch: PendingUser[]): Promise<{ written: Set<string>; unknownRoles: Map<string, string> }> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const names = [...new Set(batch.flatMap(({ user }) => user.roles))];
    // FOR SHARE: a role deleted meanwhile waits for this batch, instead of failing it on a foreign key.
    const roles = names.length === 0 ? [] : (await client.query<{ id: string; name: string }>('SELECT id::text, name FROM roles WHERE name = ANY($1::text[]) FOR SHARE', [names])).rows;
    const roleIds = new Map(roles.map(({ id, name }) => [name, id]));
    const unknownRoles = new Map<string, string>();
    for (const { id, user } of batch) {
      const unknown = user.roles.find((name) => !roleIds.has(name));
      if (unknown !== undefined) unknownRoles.set(id, unknown);
    }
    const insertable = batch.filter(({ id }) => !unknownRoles.has(id));

    const { rows } = await client.query<{ id: string }>(INSERT_USERS, [
      insertable.map(({ id }) => id),
      insertable.map(({ user }) => user.email),
      insertable.map(({ user }) => user.emailVerified),
      insertable.map(({ user }) => user.passwordHash),
      insertable.map(({ user }) => user.status),
    ]);
    const written = new Set(rows.map((row) => row.id));
    const users = insertable.filter(({ id }) => written.has(id));
    if (users.length > 0) {
      await client.query(INSERT_PROFILES, [
        users.map(({ id }) => id),
        ...PROFILE_COLUMNS.map(([, field]) => users.map(({ user }) => user.profile[field] ?? null)),
        users.map(({ user }) => user.profile.phoneNumberVerified ?? false),
      ]);
      const assignments = users.flatMap(({ id, user }) => user.roles.map((name) => [id, roleIds.get(name) as string] as const));
      if (assignments.length > 0) {
        await client.query('INSERT INTO user_roles (user_id, role_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])', [assignments.map(([userId]) => userId), assignments.map(([, roleId]) => roleId)]);
      }
    }
    await client.query('COMMIT');
    return { written, unknownRoles };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
