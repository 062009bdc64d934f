import { resolve } from 'node:path';
import { projectRoot, type Config } from '../config.js';
import type { PrismaClient } from '../db/prisma.js';
import type { Logger } from '../logger.js';
import { createMailer, type Mailer } from './mailer.js';
import { startMailWorker, type MailWorker } from './mail-worker.js';
import { createPrismaOutbox, type Outbox, type RetryPolicy } from './outbox.js';
import { createMailTemplates } from './templates.js';
import { createCatcherTransport, createSmtpTransport, type MailTransport } from './transport.js';

export interface Mail {
  mailer: Mailer;
  outbox: Outbox;
  /** Absent in production without SMTP_URL: mail then waits in the outbox until a Latch with SMTP_URL delivers it. */
  worker?: MailWorker;
}

export interface MailOptions {
  pollIntervalMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Replaces the transport SMTP_URL names (tests). */
  transport?: MailTransport;
  /** false: only queue, for the servers' workers to deliver (the CLI, a short-lived process). */
  worker?: boolean;
}

/** A minute at first, doubling up to an hour, for about a day: an SMTP outage of hours loses nothing. */
const DEFAULT_RETRY: RetryPolicy = { baseDelayMs: 60_000, maxDelayMs: 3_600_000, maxAttempts: 30 };
const DEFAULT_POLL_INTERVAL_MS = 5_000;

export function createMail(config: Config, prisma: PrismaClient, { logger, now, options = {} }: { logger: Logger; now: () => Date; options?: MailOptions }): Mail {
  const transport = options.worker === false ? undefined : (options.transport ?? transportFor(config, logger));
  const outbox = createPrismaOutbox(prisma, { ...DEFAULT_RETRY, ...options.retry }, { keepSentBodies: config.mail.smtpUrl === undefined });
  const worker = transport && startMailWorker({ outbox, transport, logger, now, pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS });
  if (!worker && options.worker !== false) logger.warn({ event: 'mail.no_transport' }, 'SMTP_URL is not set: mail is kept in the outbox and sent once a Latch with SMTP_URL runs');
  const templates = createMailTemplates({
    directory: resolve(projectRoot, 'views', 'mail'),
    productName: config.mail.productName,
    issuer: config.issuer,
    cache: config.env !== 'development',
  });
  return { mailer: createMailer({ templates, outbox, wake: () => worker?.wake() }), outbox, worker };
}

/** Whether the configuration delivers mail at all: production without SMTP_URL only keeps it in the outbox. */
export function deliversMail(config: Config): boolean {
  return config.mail.smtpUrl !== undefined || config.env !== 'production';
}

function transportFor(config: Config, logger: Logger): MailTransport | undefined {
  if (config.mail.smtpUrl) return createSmtpTransport({ url: config.mail.smtpUrl, from: config.mail.from, messageIdDomain: new URL(config.issuer).hostname });
  // Nobody would read a catcher's mail in production: there it waits for SMTP_URL instead.
  return config.env === 'production' ? undefined : createCatcherTransport(logger);
}
