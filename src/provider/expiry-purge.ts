import type { Logger } from '../logger.js';

/** A table with rows past their time: oidc-provider's payloads, the token counts. */
export interface Purgeable {
  /** For the log lines. */
  name: string;
  purgeExpired(now: Date): Promise<number>;
}

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
 * Deletes expired rows of each table every `intervalMs`. Reads already ignore them; this only keeps
 * the tables from growing. A failed purge is logged and retried at the next tick.
 */
export function startExpiredPurge(tables: Purgeable[], { intervalMs, logger, now }: ExpiredPurgeOptions): ExpiredPurge {
  let running: Promise<void> | undefined;

  const purge = async () => {
    for (const table of tables) {
      const { name } = table;
      try {
        const purged = await table.purgeExpired(now());
        logger.debug({ purged }, `Purged expired ${name}`);
      } catch (error) {
        logger.warn({ err: error }, `Purging expired ${name} failed; retrying at the next interval`);
      }
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
