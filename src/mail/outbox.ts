import type { Database, PrismaClient } from '../db/prisma.js';
import type { RenderedMail } from './templates.js';

export interface OutgoingMail extends RenderedMail {
  kind: string;
  to: string;
}

export interface StoredMail extends OutgoingMail {
  id: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  createdAt: Date;
  sentAt: Date | null;
}

export interface RetryPolicy {
  /** The wait after the first failure; it doubles with each further one, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this many failed attempts a message is marked failed and left alone. */
  maxAttempts: number;
}

export type DeliveryOutcome = 'sent' | 'retrying' | 'failed' | 'idle';

export interface Outbox {
  /** Adds a message in the caller's transaction (or on its own): it exists exactly when the change that needs it commits. */
  add(db: Database, mail: OutgoingMail): Promise<string>;
  /**
   * Delivers the oldest due message, if any, with `send`. The row stays locked (FOR UPDATE SKIP
   * LOCKED) from its pick-up until its outcome commits, so no other worker, in this process or
   * another, picks the same message meanwhile.
   */
  deliverNext(send: (mail: StoredMail) => Promise<void>, now: Date): Promise<DeliveryOutcome>;
  /** The latest messages, newest first (the development mail catcher shows them). */
  latest(limit: number): Promise<StoredMail[]>;
}

/** Longer than an SMTP exchange may take (the transport's own timeouts are shorter), so a slow server fails the send, not the transaction. */
const DELIVERY_TRANSACTION_TIMEOUT_MS = 60_000;

interface OutboxRow {
  id: string;
  kind: string;
  recipient: string;
  subject: string;
  text: string;
  html: string;
  status: StoredMail['status'];
  attempts: number;
  created_at: Date;
  sent_at: Date | null;
}

export interface OutboxOptions {
  /**
   * Keep a message's text and HTML once sent (the development catcher shows them). Otherwise they
   * are blanked at delivery: they hold live links, which the database need not keep once mailed.
   */
  keepSentBodies: boolean;
}

export function createPrismaOutbox(prisma: PrismaClient, retry: RetryPolicy, { keepSentBodies }: OutboxOptions): Outbox {
  return {
    async add(db, { kind, to, subject, text, html }) {
      const row = await db.mailMessage.create({ data: { kind, recipient: to, subject, text, html }, select: { id: true } });
      return row.id;
    },

    deliverNext(send, now) {
      return prisma.$transaction(
        async (tx) => {
          const [row] = await tx.$queryRaw<OutboxRow[]>`
            SELECT id, kind, recipient, subject, text, html, status, attempts, created_at, sent_at FROM mail_outbox
            WHERE status = 'pending' AND next_attempt_at <= ${now}
            ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`;
          if (!row) return 'idle';
          const mail = toStoredMail(row);
          try {
            await send(mail);
          } catch (error) {
            const attempts = row.attempts + 1;
            const failed = attempts >= retry.maxAttempts;
            const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempts - 1));
            await tx.mailMessage.update({
              where: { id: row.id },
              data: { attempts, status: failed ? 'failed' : 'pending', nextAttemptAt: new Date(now.getTime() + delay), lastError: describe(error) },
            });
            return failed ? 'failed' : 'retrying';
          }
          // Marked in the transaction that holds the lock: a crash before this commit leaves the row
          // pending, and it is sent again (the at-least-once edge: the SMTP server had it already).
          await tx.mailMessage.update({ where: { id: row.id }, data: { status: 'sent', attempts: row.attempts + 1, sentAt: now, lastError: null, ...(keepSentBodies ? {} : { text: '', html: '' }) } });
          return 'sent';
        },
        { timeout: DELIVERY_TRANSACTION_TIMEOUT_MS, maxWait: DELIVERY_TRANSACTION_TIMEOUT_MS },
      );
    },

    async latest(limit) {
      // The same columns as deliverNext reads, so that one mapping serves both.
      const rows = await prisma.$queryRaw<OutboxRow[]>`
        SELECT id, kind, recipient, subject, text, html, status, attempts, created_at, sent_at FROM mail_outbox
        ORDER BY created_at DESC, id DESC LIMIT ${limit}`;
      return rows.map(toStoredMail);
    },
  };
}

function toStoredMail(row: OutboxRow): StoredMail {
  return {
    id: row.id,
    kind: row.kind,
    to: row.recipient,
    subject: row.subject,
    text: row.text,
    html: row.html,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    sentAt: row.sent_at,
  };
}

/** What the operator sees of a failure: the SMTP server's reply or the network error, never the message. */
function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 500);
}
