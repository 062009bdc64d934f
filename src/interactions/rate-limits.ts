import { RateLimiterPrisma, RateLimiterRes } from 'rate-limiter-flexible';
import type { PrismaClient } from '../db/prisma.js';
import type { Logger } from '../logger.js';

export interface LimitOptions {
  /** Names the counter family in the shared table: `<keyPrefix>:<key>`. */
  keyPrefix: string;
  points: number;
  durationSeconds: number;
  /** Once past `points`, refuse for this long (from that moment) rather than until the window ends. */
  blockSeconds?: number;
}

export interface Limit {
  /** Counts one attempt; resolves to null when it is allowed, else the whole seconds until one will be. */
  consume(key: string): Promise<number | null>;
  /** Gives one attempt back (it turned out not to be the kind counted). */
  refund(key: string): Promise<void>;
  /** Forgets the key's count altogether. */
  clear(key: string): Promise<void>;
}

export interface RateLimits {
  limit(options: LimitOptions): Limit;
}

/** How often expired counters are swept, at most; they are harmless meanwhile (read as absent). */
const SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * Counters in PostgreSQL (table rate_limits, Prisma model RateLimit) through rate-limiter-flexible,
 * so that limits hold across every Latch process. The library's own cleanup timer is off: it logs
 * to the console and outlives the Prisma client it was given. Instead an expired row is replaced
 * when its key is next counted (the library does that), and rows whose key never comes back are
 * swept here, by whichever request counts something once the sweep is due: no timer to stop.
 */
export function createRateLimits(prisma: PrismaClient, { logger }: { logger: Logger }): RateLimits {
  let nextSweep = 0;
  const sweepIfDue = async () => {
    const at = new Date();
    if (at.getTime() < nextSweep) return;
    nextSweep = at.getTime() + SWEEP_INTERVAL_MS;
    try {
      const { count } = await prisma.rateLimit.deleteMany({ where: { expire: { lt: at } } });
      if (count > 0) logger.debug({ event: 'rate_limits.swept', count }, 'expired rate-limit counters removed');
    } catch (error) {
      // Counting must not fail because housekeeping did; the next sweep tries again.
      logger.warn({ event: 'rate_limits.sweep_failed', err: error }, 'could not remove expired rate-limit counters');
    }
  };

  return {
    limit({ keyPrefix, points, durationSeconds, blockSeconds = 0 }) {
      const limiter = new RateLimiterPrisma({
        storeClient: prisma,
        tableName: 'rateLimit',
        keyPrefix,
        points,
        duration: durationSeconds,
        blockDuration: blockSeconds,
        clearExpiredByTimeout: false,
      });
      return {
        async consume(key) {
          await sweepIfDue();
          try {
            await limiter.consume(key);
            return null;
          } catch (rejection) {
            // The library rejects with a RateLimiterRes when over the limit, with an Error when the store failed.
            if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
            throw rejection;
          }
        },
        async refund(key) {
          await limiter.reward(key, 1);
        },
        async clear(key) {
          await limiter.delete(key);
        },
      };
    },
  };
}
