import { AsyncLocalStorage } from 'node:async_hooks';
import type { AdapterPayload } from 'oidc-provider';
import type pg from 'pg';
import type { Invalidation } from '../db/invalidation.js';

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
  /** Deletes the grant and every row of every model that belongs to it (codes, tokens), in one statement; returns how many. */
  revokeGrant(grantId: string): Promise<number>;
  /** The account's payloads of the model (its sessions, its grants) not expired at `now`. */
  listByAccountId(model: string, accountId: string, now: Date): Promise<AdapterPayload[]>;
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
  /**
   * Runs one request. Inside it, finding a refresh token also reads its grant and its session in the
   * same statement, and serves them to this request's next find of either without a round trip (the
   * refresh grant asks for all three in a row). Nothing read ahead outlives the request, and any write
   * through the store within it drops what was read ahead.
   */
  withinRequest<T>(run: () => Promise<T>): Promise<T>;
}

export interface OidcStoreOptions {
  /** Rows deleted per statement by purgeExpired: bounds each statement's locks and WAL burst. */
  purgeBatchSize?: number;
  /**
   * Clients are read on nearly every protocol request and change rarely: with an invalidation
   * channel they are served from memory while it listens. Without one, every read goes to the database.
   */
  clientInvalidation?: Invalidation;
}

/** The channel on which a Client row's change is announced, with its id as the payload. */
export const CLIENT_CHANNEL = 'latch_clients';

/** Bounds the client cache against a flood of dynamically registered clients. */
const CLIENT_CACHE_MAX = 10_000;

type StoredRow = { payload: AdapterPayload; consumed_at: Date | null; expires_at: Date | null };
/**
 * What one request read ahead, by `model id` (finds) or `model uid:uid` (findByUid); null: known absent.
 * `writes` counts the request's writes, so that a read which started before one keeps nothing.
 */
type ReadAhead = { rows: Map<string, StoredRow | null>; writes: number };

const NOT_EXPIRED = '(expires_at IS NULL OR expires_at > $3)';
const COLUMNS = 'payload, consumed_at, expires_at';
const SELECT_ONE = `SELECT ${COLUMNS} FROM oidc_payloads WHERE model = $1 AND id = $2 AND ${NOT_EXPIRED}`;
const SELECT_MODELS = `SELECT model, ${COLUMNS} FROM oidc_payloads WHERE model = ANY($1) AND id = $2 AND ${NOT_EXPIRED}`;
// The refresh token, then its grant and its session, which oidc-provider looks up right after it; all
// three live at this find's now ($2). A later find of the grant or session judges expiry again at its own.
const LIVE = (alias: string) => `(${alias}.expires_at IS NULL OR ${alias}.expires_at > $2)`;
const SELECT_REFRESH_TOKEN_AHEAD = `WITH token AS (SELECT ${COLUMNS} FROM oidc_payloads t WHERE t.model = 'RefreshToken' AND t.id = $1 AND ${LIVE('t')})
  SELECT 'RefreshToken' AS model, ${COLUMNS} FROM token
  UNION ALL SELECT 'Grant', g.payload, g.consumed_at, g.expires_at FROM token, oidc_payloads g
    WHERE g.model = 'Grant' AND g.id = token.payload->>'grantId' AND ${LIVE('g')}
  UNION ALL SELECT 'Session', s.payload, s.consumed_at, s.expires_at FROM token, LATERAL (
    SELECT ${COLUMNS} FROM oidc_payloads s WHERE s.model = 'Session' AND s.uid = token.payload->>'sessionUid' AND ${LIVE('s')} LIMIT 1) s`;
const UPSERT = `INSERT INTO oidc_payloads (model, id, payload, grant_id, account_id, uid, user_code, consumed_at, expires_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id, account_id = EXCLUDED.account_id,
    uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, consumed_at = EXCLUDED.consumed_at, expires_at = EXCLUDED.expires_at`;

/**
 * The store as single SQL statements over the pg pool: these run on every token request, where
 * Prisma's query builder cost more CPU than PostgreSQL did. One statement each, so every write is
 * atomic on its own; concurrent saves of one id meet in INSERT ... ON CONFLICT.
 */
export function createOidcStore(pool: pg.Pool, { purgeBatchSize = 1000, clientInvalidation }: OidcStoreOptions = {}): OidcStore {
  const rows = async (sql: string, values: unknown[]) => (await pool.query<StoredRow & { model: string }>(sql, values)).rows;
  const clients = clientCache(clientInvalidation);
  const ahead = new AsyncLocalStorage<ReadAhead>();
  const finds = batchedFinds(rows, () => ahead.getStore());
  /** What this request read ahead for the key: a row, null when known absent, undefined when not read ahead. */
  const readAhead = (key: string, now: Date): StoredRow | null | undefined => {
    const known = ahead.getStore()?.rows.get(key);
    return known?.expires_at && known.expires_at <= now ? null : known;
  };
  // A write may change what was read ahead: the rest of the request reads the database again.
  const writing = () => {
    const current = ahead.getStore();
    if (!current) return;
    current.writes += 1;
    current.rows.clear();
  };
  // A Client's change is announced by the statement that makes it, so that it reaches every process
  // (this one's cache too) when it commits; a CLI, which caches nothing, announces as well.
  const announcing = (model: string, sql: string) => (model === 'Client' ? `WITH changed AS (${sql} RETURNING id) SELECT pg_notify('${CLIENT_CHANNEL}', id) FROM changed` : sql);

  return {
    async upsert(model, id, payload, expiresAt) {
      writing();
      clients.forget(model, id);
      await pool.query(announcing(model, UPSERT), [
        model,
        id,
        // oidc-provider payloads are plain JSON data by its adapter contract.
        JSON.stringify(payload),
        payload.grantId ?? null,
        // Top-level only, as on sessions, grants, codes and tokens. An Interaction keeps its account in
        // session.accountId, but needs no revoking: oidc-provider refuses one whose session is gone.
        payload.accountId ?? null,
        payload.uid ?? null,
        payload.userCode ?? null,
        // The column is the one truth about consumption (find rebuilds `consumed` from it); a payload
        // saved already consumed must not come back unconsumed.
        typeof payload.consumed === 'number' ? new Date(payload.consumed * 1000) : null,
        expiresAt ?? null,
      ]);
      clients.forget(model, id);
    },

    async find(model, id, now) {
      const known = readAhead(`${model} ${id}`, now);
      if (known !== undefined) return known ? payloadOf(known) : undefined;
      const cached = clients.get(model, id, now);
      if (cached) return payloadOf(cached);
      const generation = clients.generation();
      const row = await finds.find(model, id, now);
      if (row) clients.keep(model, id, row, generation);
      return row && payloadOf(row);
    },

    async findByUid(model, uid, now) {
      const known = readAhead(`${model} uid:${uid}`, now);
      if (known !== undefined) return known ? payloadOf(known) : undefined;
      const [row] = await rows(`SELECT ${COLUMNS} FROM oidc_payloads WHERE model = $1 AND uid = $2 AND ${NOT_EXPIRED} LIMIT 1`, [model, uid, now]);
      return row && payloadOf(row);
    },

    async findByUserCode(model, userCode, now) {
      const [row] = await rows(`SELECT ${COLUMNS} FROM oidc_payloads WHERE model = $1 AND user_code = $2 AND ${NOT_EXPIRED} LIMIT 1`, [model, userCode, now]);
      return row && payloadOf(row);
    },

    async consume(model, id, at) {
      // One conditional UPDATE: atomic across processes, and the first consumption time stands, so
      // that reusing a refresh token inside its reuse grace cannot push the grace window forward.
      writing();
      await pool.query('UPDATE oidc_payloads SET consumed_at = $3 WHERE model = $1 AND id = $2 AND consumed_at IS NULL', [model, id, at]);
    },

    async destroy(model, id) {
      writing();
      clients.forget(model, id);
      await pool.query(announcing(model, 'DELETE FROM oidc_payloads WHERE model = $1 AND id = $2'), [model, id]);
    },

    async revokeByGrantId(model, grantId) {
      writing();
      await pool.query('DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2', [model, grantId]);
    },

    async revokeGrant(grantId) {
      // A Grant row is its grant: its id is the grant id, its payload names none.
      writing();
      const { rowCount } = await pool.query("DELETE FROM oidc_payloads WHERE grant_id = $1 OR (model = 'Grant' AND id = $1)", [grantId]);
      return rowCount ?? 0;
    },

    async listByAccountId(model, accountId, now) {
      return (await rows(`SELECT ${COLUMNS} FROM oidc_payloads WHERE model = $1 AND account_id = $2 AND ${NOT_EXPIRED} ORDER BY id`, [model, accountId, now])).map(payloadOf);
    },

    async revokeByAccountId(accountId, { exceptGrantId, exceptSessionUid } = {}) {
      // Every condition is spelled so that it is true or false, never NULL: a bare NOT (grant_id = $2)
      // is NULL on rows that have no grant (sessions, grants themselves) and would silently keep them.
      // A Grant row is its grant: its id is the grant id, its payload names none. Only the Session
      // row of the kept session stays: other grants made in that session still go.
      writing();
      const { rowCount } = await pool.query(
        `DELETE FROM oidc_payloads WHERE account_id = $1 AND NOT (
           ($2::text IS NOT NULL AND ((grant_id IS NOT NULL AND grant_id = $2) OR (model = 'Grant' AND id = $2)))
           OR ($3::text IS NOT NULL AND model = 'Session' AND uid IS NOT NULL AND uid = $3))`,
        [accountId, exceptGrantId ?? null, exceptSessionUid ?? null],
      );
      return rowCount ?? 0;
    },

    async revokeByClientId(clientId) {
      // No column holds the client: a scan, fine for an administrator's occasional delete.
      writing();
      const { rowCount } = await pool.query("DELETE FROM oidc_payloads WHERE model <> 'Client' AND payload->>'clientId' = $1", [clientId]);
      return rowCount ?? 0;
    },

    async list(model, now) {
      return (await rows(`SELECT ${COLUMNS} FROM oidc_payloads WHERE model = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY id`, [model, now])).map(payloadOf);
    },

    async purgeExpired(now) {
      writing();
      let purged = 0;
      for (;;) {
        // SKIP LOCKED lets several Latch processes purge side by side.
        const { rowCount } = await pool.query(
          `DELETE FROM oidc_payloads WHERE (model, id) IN (
             SELECT model, id FROM oidc_payloads WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [now, purgeBatchSize],
        );
        const deleted = rowCount ?? 0;
        purged += deleted;
        if (deleted < purgeBatchSize) return purged;
      }
    },

    withinRequest(run) {
      return ahead.run({ rows: new Map(), writes: 0 }, run);
    },
  };
}

/**
 * Finds of one id in several models, made in the same turn of the event loop (introspection looks
 * a token up as an access token, client credentials and refresh token at once), become one statement.
 * A refresh token found alone, inside a request, brings its grant and session along (see withinRequest).
 */
function batchedFinds(rows: (sql: string, values: unknown[]) => Promise<(StoredRow & { model: string })[]>, currentReadAhead: () => ReadAhead | undefined) {
  type Waiting = { model: string; readAhead: ReadAhead | undefined; resolve(row: StoredRow | undefined): void; reject(error: unknown): void };
  let pending = new Map<string, { id: string; now: Date; waiting: Waiting[] }>();

  async function select(models: string[], id: string, now: Date, waiting: Waiting[]): Promise<(StoredRow & { model: string })[]> {
    if (models.length > 1) return rows(SELECT_MODELS, [models, id, now]);
    const [model] = models as [string];
    const requests = waiting.flatMap(({ readAhead }) => (readAhead ? [{ readAhead, writes: readAhead.writes }] : []));
    if (model !== 'RefreshToken' || requests.length === 0) return (await rows(SELECT_ONE, [model, id, now])).map((row) => ({ ...row, model }));
    const found = await rows(SELECT_REFRESH_TOKEN_AHEAD, [id, now]);
    const { grantId, sessionUid } = found.find((row) => row.model === 'RefreshToken')?.payload ?? {};
    for (const { readAhead, writes } of requests) {
      if (readAhead.writes !== writes) continue;
      if (typeof grantId === 'string') readAhead.rows.set(`Grant ${grantId}`, found.find((row) => row.model === 'Grant') ?? null);
      if (typeof sessionUid === 'string') readAhead.rows.set(`Session uid:${sessionUid}`, found.find((row) => row.model === 'Session') ?? null);
    }
    return found;
  }

  async function run({ id, now, waiting }: { id: string; now: Date; waiting: Waiting[] }): Promise<void> {
    try {
      const found = await select([...new Set(waiting.map((entry) => entry.model))], id, now, waiting);
      for (const entry of waiting) entry.resolve(found.find((row) => row.model === entry.model));
    } catch (error) {
      for (const entry of waiting) entry.reject(error);
    }
  }

  return {
    find(model: string, id: string, now: Date): Promise<StoredRow | undefined> {
      return new Promise((resolve, reject) => {
        if (pending.size === 0) {
          setImmediate(() => {
            const batch = pending;
            pending = new Map();
            for (const entry of batch.values()) void run(entry);
          });
        }
        // Expiry is judged at the caller's now: only finds of the same instant share a statement.
        const key = `${now.getTime()} ${id}`;
        const entry = pending.get(key) ?? { id, now, waiting: [] };
        entry.waiting.push({ model, readAhead: currentReadAhead(), resolve, reject });
        pending.set(key, entry);
      });
    },
  };
}

/** Client rows in memory, trusted only while the invalidation channel listens. */
function clientCache(invalidation: Invalidation | undefined) {
  const cached = new Map<string, StoredRow>();
  // Bumped by every invalidation: a read that started before one must not store what it read.
  let generation = 0;
  invalidation?.subscribe((id) => {
    generation += 1;
    if (id === undefined) cached.clear();
    else cached.delete(id);
  });
  const applies = (model: string) => model === 'Client' && invalidation !== undefined;

  return {
    generation: () => generation,
    get(model: string, id: string, now: Date): StoredRow | undefined {
      if (!applies(model) || !invalidation?.listening) return undefined;
      const row = cached.get(id);
      return row?.expires_at && row.expires_at <= now ? undefined : row;
    },
    keep(model: string, id: string, row: StoredRow, readAt: number): void {
      if (!applies(model) || !invalidation?.listening || readAt !== generation) return;
      if (cached.size >= CLIENT_CACHE_MAX) cached.delete(cached.keys().next().value as string);
      cached.set(id, row);
    },
    forget(model: string, id: string): void {
      if (!applies(model)) return;
      generation += 1;
      cached.delete(id);
    },
  };
}

function payloadOf(row: StoredRow): AdapterPayload {
  return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
}
