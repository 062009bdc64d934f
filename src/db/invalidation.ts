import type pg from 'pg';
import type { Logger } from '../logger.js';

/**
 * Tells every Latch process on one database that rows it may hold in memory have changed, by
 * PostgreSQL's LISTEN/NOTIFY. A writer sends `pg_notify(channel, key)` in the statement that makes
 * the change, so the notice goes out exactly when the change commits, whichever process (or CLI) wrote it.
 *
 * While the listening connection is down, notices are lost: `listening` is false then, so callers
 * serve from the database instead, and every reconnection starts by invalidating everything.
 */
export interface Invalidation {
  /** True while notices are being received: only then may a cache answer. */
  readonly listening: boolean;
  /** `key` changed; undefined: anything may have changed. */
  subscribe(listener: (key: string | undefined) => void): void;
  stop(): Promise<void>;
}

const RETRY_MS = 1_000;

export function listenForInvalidation(pool: pg.Pool, channel: string, logger: Logger): Invalidation {
  const listeners: ((key: string | undefined) => void)[] = [];
  const emit = (key: string | undefined) => {
    for (const listener of listeners) listener(key);
  };
  let connection: pg.PoolClient | undefined;
  let listening = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let connecting: Promise<void> = Promise.resolve();

  const lost = (client: pg.PoolClient, error: Error | undefined) => {
    if (connection !== client) return;
    connection = undefined;
    listening = false;
    emit(undefined);
    client.release(error ?? true);
    if (stopped) return;
    logger.warn({ err: error, channel }, 'cache invalidation: lost the LISTEN connection; caches are bypassed until it is back');
    retry = setTimeout(connect, RETRY_MS);
  };

  function connect(): void {
    connecting = (async () => {
      let client: pg.PoolClient | undefined;
      try {
        client = await pool.connect();
        connection = client;
        const current = client;
        client.on('notification', (message) => {
          if (message.channel === channel) emit(message.payload);
        });
        client.on('error', (error) => lost(current, error));
        client.on('end', () => lost(current, undefined));
        await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
        if (stopped) return;
        // Whatever changed while nobody listened is unknown: start from the database again.
        emit(undefined);
        listening = true;
      } catch (error) {
        if (client && connection === client) lost(client, error as Error);
        else if (!stopped) retry = setTimeout(connect, RETRY_MS);
      }
    })();
  }
  connect();

  return {
    get listening() {
      return listening;
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    async stop() {
      stopped = true;
      clearTimeout(retry);
      await connecting;
      listening = false;
      const client = connection;
      connection = undefined;
      client?.release(true);
    },
  };
}
