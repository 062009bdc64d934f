import type { Database, PrismaClient } from '../db/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';
import { SECRET_FIELDS, type Logger } from '../logger.js';
import { currentOrigin } from './audit-context.js';

/** What an event is about. Everything else given is kept as details: ids and reasons, never a secret. */
export interface AuditFields {
  /** The user the event is about. */
  userId?: string;
  /** Who did it, when not that user: "admin" (the CLI), "client:<id>", "system". */
  actor?: string;
  [detail: string]: unknown;
}

export interface AuditEvent {
  id: string;
  at: Date;
  event: string;
  actor: string | null;
  subjectId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  subjectId?: string;
  event?: string;
  since?: Date;
  /** Only events older than this one in the listing's order (at, id, newest first): the next page. */
  before?: { at: Date; id: string };
  limit: number;
}

export interface AuditLog {
  /**
   * Appends the event to audit_events and writes its log line. Given `db` (a transaction), the event
   * commits or rolls back with the change it describes, and a failure to store it fails the
   * transaction; without it, a failure to store it is logged and swallowed, since the event has
   * already happened.
   */
  record(event: string, fields?: AuditFields, db?: Database): Promise<void>;
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEvent[]>;
}

const SECRET = new Set(SECRET_FIELDS.map((field) => field.toLowerCase()));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createAuditLog({ prisma, logger, now = () => new Date() }: { prisma: PrismaClient; logger: Logger; now?: () => Date }): AuditLog {
  return {
    async record(event, { userId, actor, ...rest } = {}, db) {
      const details = detailsOf(rest);
      const { ip, userAgent } = currentOrigin();
      logger.info({ event, userId, actor, ...details }, event);
      const row = {
        at: now(),
        event,
        actor: actor ?? userId ?? null,
        // A user id that is not a UUID names no user (a typed email, say): it is not stored as one.
        subjectId: userId !== undefined && UUID.test(userId) ? userId : null,
        ip: ip ?? null,
        userAgent: userAgent ?? null,
        details: details as Prisma.InputJsonObject,
      };
      if (db) {
        await db.auditEvent.create({ data: row, select: { id: true } });
        return;
      }
      try {
        await prisma.auditEvent.create({ data: row, select: { id: true } });
      } catch (error) {
        logger.error({ event: 'audit.not_stored', audited: event, err: error }, 'could not store an audit event');
      }
    },

    async list({ subjectId, event, since, before, limit }) {
      const rows = await prisma.auditEvent.findMany({
        where: {
          subjectId,
          event,
          ...(since ? { at: { gte: since } } : {}),
          ...(before ? { OR: [{ at: { lt: before.at } }, { at: before.at, id: { lt: BigInt(before.id) } }] } : {}),
        },
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        take: limit,
      });
      return rows.map((row) => ({ ...row, id: row.id.toString(), details: row.details as Record<string, unknown> }));
    },
  };
}

/** Plain JSON values only, and no field that is named like a secret, whatever a caller passed. */
function detailsOf(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([key, value]) => !SECRET.has(key.toLowerCase()) && (isScalar(value) || (Array.isArray(value) && value.every(isScalar)))),
  );
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}
