import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { EmailTakenError, UserNotFoundError } from '../../src/account/errors.js';
import type { UserAdministration } from '../../src/admin/user-administration.js';
import { ValidationError } from '../../src/errors.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { PASSWORD } from '../support/sign-in.js';
import { query } from '../support/sql.js';

let running: RunningLatch;
let users: UserAdministration;

beforeAll(async () => {
  running = await startLatch();
  users = running.latch.admin.users;
});

afterAll(async () => {
  await running?.stop();
});

const ACTOR = 'admin';
const unique = () => randomUUID().slice(0, 8);

/** Every page of a listing, following the cursors. */
async function everyPage(filter: Parameters<UserAdministration['list']>[0]): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await users.list({ ...filter, cursor });
    pages.push(page.items.map((user) => user.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return pages;
}

describe('user administration (the service behind the admin API and the CLI)', () => {
  it('finds users by a case-insensitive substring of their email or name, and by status', async () => {
    const tag = unique();
    const { user: ada } = await users.create({ email: `ada.${tag}@example.com`, password: PASSWORD, profile: { name: 'Ada Lovelace' } }, ACTOR);
    const { user: grace } = await users.create({ email: `grace.${tag}@example.com`, password: PASSWORD, profile: { name: `Grace Hopper ${tag.toUpperCase()}` } }, ACTOR);
    await users.disable(grace.id, ACTOR);

    const ids = async (filter: Parameters<UserAdministration['list']>[0]) => (await users.list(filter)).items.map((user) => user.id);
    expect(await ids({ query: `ADA.${tag}` })).toEqual([ada.id]);
    expect(await ids({ query: tag })).toEqual([ada.id, grace.id]);
    expect(await ids({ query: 'lovelace' })).toContain(ada.id);
    expect(await ids({ query: tag, status: 'disabled' })).toEqual([grace.id]);
    expect(await ids({ query: tag, status: 'active' })).toEqual([ada.id]);
    // LIKE's wildcards are only characters here.
    expect(await ids({ query: `%${tag}` })).toEqual([]);
    expect(await ids({ query: `ada_${tag}` })).toEqual([]);
  });

  it('pages in creation order with an opaque cursor, and refuses a forged cursor or a limit out of range', async () => {
    const tag = unique();
    const created: string[] = [];
    for (let n = 0; n < 7; n += 1) created.push((await users.create({ email: `page-${n}.${tag}@example.com`, password: PASSWORD }, ACTOR)).user.id);

    expect(await everyPage({ query: tag, limit: 3 })).toEqual([created.slice(0, 3), created.slice(3, 6), created.slice(6)]);
    await expect(users.list({ cursor: 'not-a-cursor' })).rejects.toMatchObject({ issues: [{ field: 'cursor' }] });
    await expect(users.list({ cursor: Buffer.from('["2026-12-01T00:00:00.000Z","1; drop table users"]').toString('base64url') })).rejects.toBeInstanceOf(ValidationError);
    await expect(users.list({ limit: 0 })).rejects.toMatchObject({ issues: [{ field: 'limit' }] });
    await expect(users.list({ limit: 201 })).rejects.toMatchObject({ issues: [{ field: 'limit' }] });
    expect((await users.list({ limit: 200 })).items.length).toBeGreaterThan(0);
  });

  it('pages through every existing user exactly once while another connection inserts users', async () => {
    const tag = unique();
    const existing: string[] = [];
    for (let n = 0; n < 40; n += 1) existing.push((await users.create({ email: `steady-${n}.${tag}@example.com`, password: PASSWORD }, ACTOR)).user.id);

    const inserter = new pg.Client({ connectionString: running.databaseUrl });
    await inserter.connect();
    let inserting = true;
    let inserted = 0;
    const insertions = (async () => {
      while (inserting) {
        // Straight into the tables, beside the app, as another replica's registrations would be.
        await inserter.query(
          `with u as (insert into users (id, email, password_hash, updated_at) values (gen_random_uuid(), $1, 'x', now()) returning id)
           insert into profiles (user_id, updated_at) select id, now() from u`,
          [`racing-${inserted}.${tag}@example.com`],
        );
        inserted += 1;
      }
    })();
    try {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await users.list({ query: tag, limit: 7, cursor });
        seen.push(...page.items.map((user) => user.id));
        cursor = page.nextCursor;
        // Give the inserter time between pages, so that rows land while the listing is under way.
        await new Promise((resolve) => setTimeout(resolve, 20));
        // The inserter never stops on its own: past the existing rows, only its own are left to page through.
      } while (cursor !== undefined && seen.length < existing.length + 14);
      expect(inserted).toBeGreaterThan(0);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.slice(0, existing.length)).toEqual(existing);
    } finally {
      inserting = false;
      await insertions;
      await inserter.end();
    }
  });

  it('creates a user with claims and a verified address, or without a password and with a reset link mailed', async () => {
    const tag = unique();
    const { user, link } = await users.create({ email: `Made.${tag}@Example.com`, password: PASSWORD, emailVerified: true, profile: { name: 'Made', givenName: 'M' } }, ACTOR);
    expect(link).toBeUndefined();
    expect(user).toMatchObject({ email: `Made.${tag}@Example.com`, emailVerified: true, status: 'active', profile: { name: 'Made', givenName: 'M' } });
    expect(await running.latch.accounts.authenticate(user.email, PASSWORD)).toMatchObject({ id: user.id });
    await expect(users.create({ email: `made.${tag}@example.com`, password: PASSWORD }, ACTOR)).rejects.toBeInstanceOf(EmailTakenError);
    await expect(users.create({ email: 'not an address', password: 'short', profile: { website: 'ftp://x' } }, ACTOR)).rejects.toMatchObject({
      issues: [{ field: 'email' }, { field: 'password' }, { field: 'website' }],
    });

    const invited = await users.create({ email: `invited.${tag}@example.com` }, ACTOR);
    // Mail is on (the catcher): the link went to the outbox, not back to the caller.
    expect(invited.link).toBeUndefined();
    const mails = await query<{ kind: string }>(running.databaseUrl, 'select kind from mail_outbox where recipient = $1', [`invited.${tag}@example.com`]);
    expect(mails).toEqual([{ kind: 'password_reset' }]);
    const [event] = await query<{ actor: string; details: Record<string, unknown> }>(running.databaseUrl, "select actor, details from audit_events where subject_id = $1 and event = 'account.created'", [invited.user.id]);
    expect(event).toEqual({ actor: ACTOR, details: { via: 'admin', email_verified: false, password_set: false, roles: [] } });
  });

  it('updates with PATCH semantics, records before and after of email and status, and deletes everything of a user', async () => {
    const tag = unique();
    const { user } = await users.create({ email: `patch.${tag}@example.com`, password: PASSWORD, emailVerified: true, profile: { name: 'Before', nickname: 'nick' } }, ACTOR);

    const updated = await users.update(user.id, { email: `patched.${tag}@example.com`, profile: { name: 'After', nickname: null } }, 'client:console');
    expect(updated).toMatchObject({ email: `patched.${tag}@example.com`, emailVerified: false, status: 'active', profile: { name: 'After', nickname: null } });
    const [event] = await query<{ actor: string; details: Record<string, unknown> }>(running.databaseUrl, "select actor, details from audit_events where subject_id = $1 and event = 'account.updated'", [user.id]);
    expect(event).toEqual({
      actor: 'client:console',
      details: { via: 'admin', claims: ['name', 'nickname'], before_email: `patch.${tag}@example.com`, after_email: `patched.${tag}@example.com`, before_email_verified: true, after_email_verified: false },
    });

    // Another letter case is the same address: it is stored as typed, and stays as verified as it was.
    await users.update(user.id, { emailVerified: true }, ACTOR);
    expect(await users.update(user.id, { email: `PATCHED.${tag}@example.com` }, ACTOR)).toMatchObject({ email: `PATCHED.${tag}@example.com`, emailVerified: true });

    const other = await users.create({ email: `other.${tag}@example.com`, password: PASSWORD }, ACTOR);
    // Refused as a whole: the claim in the same request is not half-written.
    await expect(users.update(user.id, { email: other.user.email.toUpperCase(), profile: { name: 'Half' } }, ACTOR)).rejects.toBeInstanceOf(EmailTakenError);
    expect((await users.find(user.id)).profile.name).toBe('After');
    expect((await users.find(`PATCHED.${tag}@example.com`)).id).toBe(user.id);

    await users.delete(user.id, ACTOR);
    await expect(users.find(user.id)).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(users.delete(user.id, ACTOR)).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(users.show(randomUUID())).rejects.toBeInstanceOf(UserNotFoundError);
    await expect(users.update('not-a-uuid', { status: 'disabled' }, ACTOR)).rejects.toBeInstanceOf(UserNotFoundError);
    expect(await query(running.databaseUrl, 'select 1 from profiles where user_id = $1', [user.id])).toEqual([]);
  });
});

describe('user administration with mail off (production without SMTP_URL)', () => {
  it('returns the reset link once instead of mailing it', async () => {
    const noMail = await startLatch({}, { mail: { worker: false } });
    try {
      const tag = unique();
      const { user, link } = await noMail.latch.admin.users.create({ email: `nomail.${tag}@example.com` }, ACTOR);
      expect(link).toMatch(new RegExp(`^${noMail.baseUrl}/self-service/reset-password\\?token=[A-Za-z0-9_-]{43}$`));
      expect(await query(noMail.databaseUrl, 'select 1 from mail_outbox where recipient = $1', [user.email])).toEqual([]);
      const again = await noMail.latch.admin.users.resetPassword(user.id, ACTOR);
      // A new link voids the first: only the latest one works.
      expect(again.link).not.toEqual(link);
      const open = (url: string | undefined) => noMail.http().get(new URL(url as string).pathname + new URL(url as string).search);
      expect((await open(link)).text).toMatch(/This link no longer works/);
      const current = await open(again.link);
      expect(current.status).toBe(200);
      expect(current.text).toMatch(/New password/);
    } finally {
      await noMail.stop();
    }
  });
});
