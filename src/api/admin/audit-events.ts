import { z } from 'zod';
import type { AuditSearch } from '../../admin/audit-search.js';
import { DEFAULT_AUDIT_PAGE_SIZE } from '../../admin/audit-search.js';
import type { AuditEvent } from '../../audit/audit-log.js';
import type { ApiRoutes } from '../operation.js';

const eventSchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  event: z.string().describe('What happened: account.disabled, grant.revoked, key.rotated, ...'),
  actor: z.string().nullable().describe('Who did it: a user id, client:<id>, admin (the CLI), dynamic registration.'),
  subject_id: z.string().nullable().describe('The user it is about.'),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).describe('Ids, reasons, before and after: never a secret.'),
});
const eventPageSchema = z
  .object({ events: z.array(eventSchema), next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page; null on the last.') })
  .meta({ id: 'AdminAuditEventPage' });

const listQuery = z.object({
  user: z.string().max(320).optional().describe("A user's id, or the email address of an existing account."),
  event: z.string().max(100).optional(),
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 date and time, such as 2026-12-01T00:00:00Z' }).transform((value) => new Date(value)).optional(),
  cursor: z.string().max(512).optional().describe('The next_cursor of the previous page.'),
  limit: z.string().regex(/^\d{1,5}$/, 'limit must be a whole number').transform(Number).optional().describe(`Events per page: ${DEFAULT_AUDIT_PAGE_SIZE} unless given.`),
});

function presentEvent(event: AuditEvent): z.input<typeof eventSchema> {
  return { id: event.id, at: event.at.toISOString(), event: event.event, actor: event.actor, subject_id: event.subjectId, ip: event.ip, user_agent: event.userAgent, details: event.details };
}

/** The audit trail, newest first, as `latch audit list` reads it. */
export function mountAdminAuditRoutes(routes: ApiRoutes, { auditEvents }: { auditEvents: AuditSearch }): void {
  routes.add(
    {
      id: 'adminListAuditEvents',
      method: 'get',
      path: '/audit-events',
      summary: 'Read the audit trail',
      description: 'Security events, newest first, by user, event name and time, in pages: follow next_cursor until it is null.',
      query: listQuery,
      replies: { 200: { description: 'A page of events.', body: eventPageSchema } },
      problems: ['invalid_input', 'not_found', 'internal', 'unavailable'],
    },
    async (_ctx, _body, filter) => {
      const page = await auditEvents(filter);
      return { status: 200, body: { events: page.items.map(presentEvent), next_cursor: page.nextCursor ?? null } };
    },
  );
}
