import type { Logger } from '../logger.js';
import type { OidcStore } from './oidc-store.js';

export interface ExpiredPurge {
  /** Stops the timer; resolves once a purge still running has finished, so the database can then be closed. */
  stop(): Promise<void>;
}

export interface ExpiredPurgeOptions {
  intervalMs: number;
  logger: Logger;
  now: () => Date;
}

/**
 * Deletes expired oidc-provider rows every `intervalMs`. Reads already ignore expired rows; this only
 * keeps the table from growing. A failed purge is logged and retried at the next tick.
 */
export function startExpiredPurge(store: Pick<OidcStore, 'purgeExpired'>, { intervalMs, logger, now }: ExpiredPurgeOptions): ExpiredPurge {
  let running: Promise<void> | undefined;

  const purge = async () => {
    try {
      const purged = await store.purgeExpired(now());
      logger.debug({ purged }, 'Purged expired OIDC payloads');
    } catch (error) {
      logger.warn({ err: error }, 'Purging expired OIDC payloads failed; retrying at the next interval');
    }
  };

  const timer = setInterval(() => {
    // A purge slower than the interval (a large backlog) is not run twice at once.
    if (running) return;
    // Cleared in a callback, which always runs after this assignment, even when purge settles at once.
    running = purge().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  // The purge alone must not keep the process alive.
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
