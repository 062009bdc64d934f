import { isUuid } from '../account/user-repository.js';
import type { AuditEvent, AuditLog } from '../audit/audit-log.js';
import { ValidationError } from '../errors.js';
import { decodeCursor, pageOf, type Page } from './cursor.js';
import type { UserAdministration } from './user-administration.js';

export const DEFAULT_AUDIT_PAGE_SIZE = 100;
export const MAX_AUDIT_PAGE_SIZE = 10_000;

export interface AuditFilter {
  /** A user's id or email address. */
  user?: string;
  event?: string;
  since?: Date;
  /** From a previous page's nextCursor. */
  cursor?: string;
  limit?: number;
}

export type AuditSearch = (filter: AuditFilter) => Promise<Page<AuditEvent>>;

/** Audit events newest first, in keyset pages: the admin API's and the CLI's one reading of the trail. */
export function createAuditSearch({ audit, users }: { audit: Pick<AuditLog, 'list'>; users: Pick<UserAdministration, 'find'> }): AuditSearch {
  return async ({ user, event, since, cursor, limit = DEFAULT_AUDIT_PAGE_SIZE }) => {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE_SIZE) {
      throw new ValidationError([{ field: 'limit', message: `must be a whole number from 1 to ${MAX_AUDIT_PAGE_SIZE}` }], 'The limit is not valid.');
    }
    const before = cursor === undefined ? undefined : decodeCursor(cursor, (id) => /^\d{1,19}$/.test(id));
    // A deleted user's events keep their id: an id is searched as it is, an address must still name an account.
    const subjectId = user === undefined ? undefined : isUuid(user) ? user : (await users.find(user)).id;
    const events = await audit.list({ subjectId, event, since, before, limit: limit + 1 });
    return pageOf(events, limit, (item) => ({ at: item.at, id: item.id }));
  };
}
