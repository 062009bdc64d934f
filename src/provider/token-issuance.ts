import type pg from 'pg';
import type { Logger } from '../logger.js';

/** How often the counts reach the database: the console's overview lags by at most this. */
export const TOKEN_ISSUANCE_FLUSH_MS = 10_000;
/** How long the hourly counts are kept: the overview shows 30 days, and a year of history costs ~10,000 rows per grant type. */
export const TOKEN_ISSUANCE_KEPT_DAYS = 400;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export interface TokenIssuance {
  /** One token issued now: counted in memory, stored at the next flush. */
  count(grantType: string): void;
  /** Adds the counts held in memory to token_issuance in one statement; none held, no statement. */
  flush(): Promise<void>;
  /** Deletes hours older than TOKEN_ISSUANCE_KEPT_DAYS (the expiry purge's job). */
  purgeExpired(now: Date): Promise<number>;
  /** Stops the timer and flushes what is left: call it before the pool closes. */
  stop(): Promise<void>;
}

/**
 * Tokens issued, by hour and grant type. Each token is counted in memory and the counts are added to
 * the table every `flushIntervalMs`, so that issuing a token costs no statement of its own (issue
 * 10 allows a client-credentials token two); several processes add to the same rows. A flush that
 * fails keeps its counts for the next one, so only a crash loses them: at most one interval's.
 */
export function createTokenIssuance(pool: pg.Pool, { logger, now, flushIntervalMs = TOKEN_ISSUANCE_FLUSH_MS }: { logger: Logger; now: () => Date; flushIntervalMs?: number }): TokenIssuance {
  // "<hour ms> <grant type>" → tokens not yet stored.
  let pending = new Map<string, number>();
  let flushing: Promise<void> = Promise.resolve();

  const keep = (counts: Map<string, number>) => {
    for (const [key, value] of counts) pending.set(key, (pending.get(key) ?? 0) + value);
  };

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const counts = pending;
    pending = new Map();
    const hours: Date[] = [];
    const grantTypes: string[] = [];
    const values: number[] = [];
    for (const [key, value] of counts) {
      const space = key.indexOf(' ');
      hours.push(new Date(Number(key.slice(0, space))));
      grantTypes.push(key.slice(space + 1));
      values.push(value);
    }
    try {
      await pool.query(
        `INSERT INTO token_issuance (hour, grant_type, count)
         SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::bigint[])
         ON CONFLICT (hour, grant_type) DO UPDATE SET count = token_issuance.count + EXCLUDED.count`,
        [hours, grantTypes, values],
      );
    } catch (error) {
      keep(counts);
      logger.warn({ err: error }, 'Could not store the token issuance counts; they are kept for the next flush');
    }
  }

  // One flush at a time: two concurrent ones could each take counts the other then fails to keep.
  const flush = () => {
    flushing = flushing.then(write);
    return flushing;
  };

  const timer = setInterval(() => void flush(), flushIntervalMs);
  // The counter alone must not keep the process alive.
  timer.unref();

  return {
    count(grantType) {
      const hour = Math.floor(now().getTime() / HOUR_MS) * HOUR_MS;
      const key = `${hour} ${grantType}`;
      pending.set(key, (pending.get(key) ?? 0) + 1);
    },

    flush,

    async purgeExpired(at) {
      const { rowCount } = await pool.query('DELETE FROM token_issuance WHERE hour < $1', [new Date(at.getTime() - TOKEN_ISSUANCE_KEPT_DAYS * DAY_MS)]);
      return rowCount ?? 0;
    },

    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
