import type { Logger } from '../logger.js';
import type { Outbox } from './outbox.js';
import type { MailTransport } from './transport.js';

export interface MailWorker {
  /** Looks for due messages now rather than at the next poll (called after a message is added). */
  wake(): void;
  /** Resolves once the outbox has nothing due (tests wait on it). */
  idle(): Promise<void>;
  /** Finishes the delivery under way, then stops. */
  stop(): Promise<void>;
}

export interface MailWorkerOptions {
  outbox: Outbox;
  transport: MailTransport;
  logger: Logger;
  now: () => Date;
  /** How often the outbox is looked at when nothing wakes the worker: retries come due, other replicas add mail. */
  pollIntervalMs: number;
}

/**
 * Delivers the outbox, one message at a time, until nothing is due; then waits for a wake-up or
 * the next poll. Any number of workers, in any number of processes, may run on one outbox: each
 * message is locked by the one delivering it (see Outbox.deliverNext).
 */
export function startMailWorker({ outbox, transport, logger, now, pollIntervalMs }: MailWorkerOptions): MailWorker {
  let stopped = false;
  let again = false;
  let running: Promise<void> | undefined;

  const drain = async () => {
    do {
      again = false;
      for (;;) {
        if (stopped) return;
        let outcome;
        try {
          outcome = await outbox.deliverNext((mail) => transport.send(mail), now());
        } catch (error) {
          // The database is away: the next poll tries again.
          logger.warn({ event: 'mail.outbox_unavailable', err: error }, 'could not read the mail outbox');
          return;
        }
        if (outcome === 'idle') break;
        if (outcome === 'sent') logger.debug({ event: 'mail.sent' }, 'mail delivered');
        else logger.warn({ event: outcome === 'failed' ? 'mail.failed' : 'mail.deferred' }, outcome === 'failed' ? 'mail given up after repeated failures' : 'mail delivery failed: will retry');
      }
    } while (again);
  };

  const run = () => {
    if (running) {
      again = true;
      return running;
    }
    running = drain().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void run(), pollIntervalMs);
  timer.unref();
  void run();

  return {
    wake: () => void run(),
    async idle() {
      await run();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      transport.close();
    },
  };
}
