import type pg from 'pg';
import type { CompanionQuery, CompanionStatement } from '../db/companion-statement.js';
import type { Logger } from '../logger.js';

export interface Limit {
  /** Names the counter family in the shared table: `<keyPrefix>:<key>`. */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
  /** Once past `points`, refuse for this long (from that moment) rather than until the window ends. */
  blockSeconds?: number;
}

/** One key counted against one limit. */
export interface Counted {
  limit: Limit;
  key: string;
}

export interface RateLimits {
  /**
   * Counts one attempt against every key at once: resolves to null when all of them allow it,
   * else the whole seconds until the last refusing one will.
   */
  consume(attempts: readonly Counted[]): Promise<number | null>;
  /** The same count, for another statement to run first thing along with itself (see CompanionQuery). */
  consumption(attempts: readonly Counted[]): CompanionQuery<number | null>;
  /** Gives attempts back (they turned out not to be the kind counted) and forgets others' counts altogether. */
  settle(changes: Settlement): Promise<void>;
  /** The same settle, for another statement to run along with itself (see CompanionStatement). */
  settlement(changes: Settlement): CompanionStatement;
}

export interface Settlement {
  refund?: readonly Counted[];
  clear?: readonly Counted[];
}

/** How often expired counters are swept, at most; they are harmless meanwhile (read as absent). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/*
 * One upsert for all keys of an attempt. A counter whose window is over starts again at 1; the
 * attempt that first goes past the limit moves the expiry to the end of the block. The wait is
 * computed by PostgreSQL's clock, the one every process shares; expiries are truncated to the
 * column's milliseconds so that rounding never makes a wait longer than the window. The answer is
 * the longest wait of the keys past their limit, NULL when none is.
 */
const CONSUME_ITEMS = `
rate_limit_attempt AS (
  SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[]) AS a(key, allowed, duration_ms, block_ms)
),
rate_limit_counted AS (
  INSERT INTO rate_limits AS counter (key, points, expire)
  SELECT key, 1, date_trunc('milliseconds', now()) + duration_ms * interval '1 millisecond' FROM rate_limit_attempt
  ON CONFLICT (key) DO UPDATE SET
    points = CASE WHEN counter.expire IS NULL OR counter.expire <= now() THEN 1 ELSE counter.points + 1 END,
    expire = CASE
      WHEN counter.expire IS NULL OR counter.expire <= now() THEN excluded.expire
      WHEN (SELECT block_ms > 0 AND counter.points = allowed FROM rate_limit_attempt WHERE rate_limit_attempt.key = excluded.key)
        THEN date_trunc('milliseconds', now()) + (SELECT block_ms FROM rate_limit_attempt WHERE rate_limit_attempt.key = excluded.key) * interval '1 millisecond'
      ELSE counter.expire
    END
  RETURNING key, points, ceil(extract(epoch FROM counter.expire - now()))::int AS wait_seconds
)`;
const CONSUME_ANSWER = `(SELECT max(greatest(1, counted.wait_seconds)) FROM rate_limit_counted counted
  JOIN rate_limit_attempt USING (key) WHERE counted.points > rate_limit_attempt.allowed)`;
const CONSUME = `WITH ${CONSUME_ITEMS} SELECT ${CONSUME_ANSWER} AS wait_seconds`;

const SETTLE_ITEMS = `
cleared AS (DELETE FROM rate_limits WHERE key = ANY($1::text[])),
refunded AS (UPDATE rate_limits SET points = points - 1 WHERE key = ANY($2::text[]) AND points > 0 AND expire > now())`;
// A data-modifying WITH item runs whether or not anything reads it.
const SETTLE = `WITH ${SETTLE_ITEMS} SELECT NULL`;

const keyOf = ({ limit, key }: Counted) => `${limit.keyPrefix}:${key}`;

/**
 * Counters in PostgreSQL (table rate_limits), so that limits hold across every Latch process.
 * Written as two statements over the pool rather than through rate-limiter-flexible: its stores
 * spend a statement (RateLimiterPrisma several) per key and per refund, and a sign-in counts two
 * keys and settles two, on the hottest page there is. Rows whose key never comes back are swept
 * by whichever request counts something once the sweep is due: no timer to stop.
 */
export function createRateLimits(pool: pg.Pool, { logger }: { logger: Logger }): RateLimits {
  let nextSweep = 0;
  const sweepIfDue = async () => {
    const at = Date.now();
    if (at < nextSweep) return;
    nextSweep = at + SWEEP_INTERVAL_MS;
    try {
      const { rowCount } = await pool.query('DELETE FROM rate_limits WHERE expire < now()');
      if (rowCount) logger.debug({ event: 'rate_limits.swept', count: rowCount }, 'expired rate-limit counters removed');
    } catch (error) {
      // Counting must not fail because housekeeping did; the next sweep tries again.
      logger.warn({ event: 'rate_limits.sweep_failed', err: error }, 'could not remove expired rate-limit counters');
    }
  };

  const settlement = ({ refund = [], clear = [] }: Settlement): CompanionStatement => ({ items: SETTLE_ITEMS, values: [clear.map(keyOf), refund.map(keyOf)] });

  const counting = (attempts: readonly Counted[]): CompanionQuery<number | null> => ({
      items: CONSUME_ITEMS,
      values: [
        attempts.map(keyOf),
        attempts.map(({ limit }) => limit.points),
        attempts.map(({ limit }) => limit.durationSeconds * 1000),
        attempts.map(({ limit }) => (limit.blockSeconds ?? 0) * 1000),
      ],
      select: CONSUME_ANSWER,
      read: (wait) => (typeof wait === 'number' ? wait : null),
  });

  return {
    settlement,
    consumption(attempts) {
      // The host statement is not this module's to delay: the sweep runs beside it, its failure logged.
      void sweepIfDue();
      return counting(attempts);
    },

    async consume(attempts) {
      await sweepIfDue();
      const { values, read } = counting(attempts);
      const { rows } = await pool.query<{ wait_seconds: number | null }>({ name: 'rate_limits.consume', text: CONSUME, values });
      return read(rows[0]?.wait_seconds ?? null);
    },

    async settle(changes) {
      if (!changes.refund?.length && !changes.clear?.length) return;
      await pool.query({ name: 'rate_limits.settle', text: SETTLE, values: settlement(changes).values });
    },
  };
}
