import type { AdapterPayload } from 'oidc-provider';
import type { Database } from '../db/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';

/**
 * Storage of oidc-provider's model instances (sessions, grants, codes, tokens, interactions, ...),
 * one row per (model, id). oidc-provider owns the payload; the columns extracted from it serve the
 * lookups it makes and the account-wide revocation Latch makes.
 *
 * Expiry is judged against the `now` each read is given, never the database clock, so that every
 * Latch process (and every test) decides expiry by the same clock that computed `expiresAt`.
 */
export interface OidcStore {
  /** Creates or wholly replaces the row: payload, extracted columns, consumption and expiry (undefined: never expires). */
  upsert(model: string, id: string, payload: AdapterPayload, expiresAt: Date | undefined): Promise<void>;
  /** The payload, with `consumed` (epoch seconds) when consumed; undefined when missing or expired at `now`. */
  find(model: string, id: string, now: Date): Promise<AdapterPayload | undefined>;
  findByUid(model: string, uid: string, now: Date): Promise<AdapterPayload | undefined>;
  findByUserCode(model: string, userCode: string, now: Date): Promise<AdapterPayload | undefined>;
  /** Marks the row consumed at `at`; a row already consumed keeps its first consumption time. */
  consume(model: string, id: string, at: Date): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  /** Deletes this model's rows that belong to the grant. */
  revokeByGrantId(model: string, grantId: string): Promise<void>;
  /**
   * Deletes every row of the account, of every model (sessions, grants, codes, tokens), except the
   * grant `exceptGrantId` and the rows that belong to it, and except the session whose uid is
   * `exceptSessionUid` (refresh tokens issued without offline_access die with their session).
   * Returns how many rows were deleted.
   */
  revokeByAccountId(accountId: string, options?: { exceptGrantId?: string; exceptSessionUid?: string }): Promise<number>;
  /**
   * Deletes every row issued to the client, of every model that names it (grants, codes, tokens,
   * its registration access token); not the Client row itself. Returns how many rows were deleted.
   */
  revokeByClientId(clientId: string): Promise<number>;
  /** Every payload of the model not expired at `now`, by id. */
  list(model: string, now: Date): Promise<AdapterPayload[]>;
  /** Deletes the rows expired at `now`, in batches; returns how many. */
  purgeExpired(now: Date): Promise<number>;
}

export interface OidcStoreOptions {
  /** Rows deleted per statement by purgeExpired: bounds each statement's locks and WAL burst. */
  purgeBatchSize?: number;
}

const notExpiredAt = (now: Date) => ({ OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] });
const stored = { select: { payload: true, consumedAt: true } } as const;

export function createPrismaOidcStore(prisma: Database, { purgeBatchSize = 1000 }: OidcStoreOptions = {}): OidcStore {
  return {
    async upsert(model, id, payload, expiresAt) {
      const row = {
        // oidc-provider payloads are plain JSON data by its adapter contract.
        payload: payload as Prisma.InputJsonObject,
        grantId: payload.grantId ?? null,
        // Top-level only, as on sessions, grants, codes and tokens. An Interaction keeps its account in
        // session.accountId, but needs no revoking: oidc-provider refuses one whose session is gone.
        accountId: payload.accountId ?? null,
        uid: payload.uid ?? null,
        userCode: payload.userCode ?? null,
        // The column is the one truth about consumption (find rebuilds `consumed` from it); a payload
        // saved already consumed must not come back unconsumed.
        consumedAt: typeof payload.consumed === 'number' ? new Date(payload.consumed * 1000) : null,
        expiresAt: expiresAt ?? null,
      };
      // Shaped for Prisma's native upsert (INSERT ... ON CONFLICT): concurrent saves of one id cannot collide.
      await prisma.oidcPayload.upsert({ where: { model_id: { model, id } }, create: { model, id, ...row }, update: row });
    },

    async find(model, id, now) {
      return toPayload(await prisma.oidcPayload.findUnique({ where: { model_id: { model, id }, ...notExpiredAt(now) }, ...stored }));
    },

    async findByUid(model, uid, now) {
      return toPayload(await prisma.oidcPayload.findFirst({ where: { model, uid, ...notExpiredAt(now) }, ...stored }));
    },

    async findByUserCode(model, userCode, now) {
      return toPayload(await prisma.oidcPayload.findFirst({ where: { model, userCode, ...notExpiredAt(now) }, ...stored }));
    },

    async consume(model, id, at) {
      // One conditional UPDATE: atomic across processes, and the first consumption time stands, so
      // that reusing a refresh token inside its reuse grace cannot push the grace window forward.
      await prisma.oidcPayload.updateMany({ where: { model, id, consumedAt: null }, data: { consumedAt: at } });
    },

    async destroy(model, id) {
      await prisma.oidcPayload.deleteMany({ where: { model, id } });
    },

    async revokeByGrantId(model, grantId) {
      await prisma.oidcPayload.deleteMany({ where: { model, grantId } });
    },

    async revokeByAccountId(accountId, { exceptGrantId, exceptSessionUid } = {}) {
      const kept: Prisma.OidcPayloadWhereInput[] = [];
      if (exceptGrantId !== undefined) {
        kept.push(
          // With IS NOT NULL spelled out: a bare NOT (grant_id = $1) is NULL, not true, on the rows
          // that have no grant (sessions, grants themselves), and would silently keep them.
          { grantId: { not: null, equals: exceptGrantId } },
          // A Grant row is its grant: its id is the grant id, its payload names none.
          { model: 'Grant', id: exceptGrantId },
        );
      }
      // Only the Session row: other grants made in that session still go. Same IS NOT NULL reason.
      if (exceptSessionUid !== undefined) kept.push({ model: 'Session', uid: { not: null, equals: exceptSessionUid } });
      const { count } = await prisma.oidcPayload.deleteMany({ where: kept.length > 0 ? { accountId, NOT: kept } : { accountId } });
      return count;
    },

    async revokeByClientId(clientId) {
      // No column holds the client: a scan, fine for an administrator's occasional delete.
      const { count } = await prisma.oidcPayload.deleteMany({ where: { NOT: { model: 'Client' }, payload: { path: ['clientId'], equals: clientId } } });
      return count;
    },

    async list(model, now) {
      const rows = await prisma.oidcPayload.findMany({ where: { model, ...notExpiredAt(now) }, orderBy: { id: 'asc' }, ...stored });
      return rows.map(payloadOf);
    },

    async purgeExpired(now) {
      let purged = 0;
      for (;;) {
        // Prisma's deleteMany has no LIMIT. SKIP LOCKED lets several Latch processes purge side by side.
        const deleted = await prisma.$executeRaw`
          DELETE FROM oidc_payloads WHERE (model, id) IN (
            SELECT model, id FROM oidc_payloads WHERE expires_at <= ${now} LIMIT ${purgeBatchSize} FOR UPDATE SKIP LOCKED
          )`;
        purged += deleted;
        if (deleted < purgeBatchSize) return purged;
      }
    },
  };
}

type StoredRow = { payload: Prisma.JsonValue; consumedAt: Date | null };

function toPayload(row: StoredRow | null): AdapterPayload | undefined {
  return row ? payloadOf(row) : undefined;
}

function payloadOf(row: StoredRow): AdapterPayload {
  // Written by upsert from an AdapterPayload: a JSON object.
  const payload = row.payload as AdapterPayload;
  return row.consumedAt ? { ...payload, consumed: Math.floor(row.consumedAt.getTime() / 1000) } : payload;
}
