import { isUuid } from '../account/user-repository.js';
import type { User } from '../account/user.js';
import type { AuditEvent } from '../audit/audit-log.js';
import type { SigningKeySummary } from '../provider/keys/signing-keys.js';
import { CONSOLE_PATH } from './console-client.js';
import type { AuditRow, KeyRow, UserRow } from './console-views.js';

const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

/** Dates as the console shows them: UTC, so that two administrators reading one page agree. */
export const formatted = (date: Date | undefined): string | undefined => (date ? `${when.format(date)} UTC` : undefined);

export const userHref = (id: string) => `${CONSOLE_PATH}/users/${id}`;
export const roleHref = (name: string) => `${CONSOLE_PATH}/roles/${encodeURIComponent(name)}`;
/** APIs by id: their identifiers are URLs, which make poor path segments. */
export const apiHref = (id: string) => `${CONSOLE_PATH}/apis/${id}`;
export const holdersHref = (role: string) => `${CONSOLE_PATH}/users?${new URLSearchParams({ role }).toString()}`;

export function userRow(user: User): UserRow {
  return { id: user.id, email: user.email, name: user.profile.name ?? undefined, emailVerified: user.emailVerified, status: user.status, created: formatted(user.createdAt) ?? '' };
}

/** One audit event, with its user and actor linked when they are accounts (deleted ones show their id, linking to a 404 page that says so). */
export function auditRow(event: AuditEvent): AuditRow {
  const { clientId } = event.details;
  const actor = event.actor ?? undefined;
  return {
    at: when.format(event.at),
    event: event.event,
    subject: event.subjectId ? { text: event.subjectId, href: userHref(event.subjectId) } : undefined,
    actor: actor === undefined ? undefined : isUuid(actor) ? { text: actor, href: userHref(actor) } : { text: actor },
    app: typeof clientId === 'string' ? { text: clientId } : undefined,
    ip: event.ip ?? undefined,
  };
}

/** A key's dates, as the overview and the keys page show them. */
export function keyRow(key: SigningKeySummary): KeyRow {
  return {
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    created: formatted(key.createdAt) ?? '',
    signsFrom: formatted(key.activatesAt) ?? '',
    retires: formatted(key.retiresAt ?? undefined),
    leaves: formatted(key.expiresAt ?? undefined),
  };
}

const AGE_UNITS = [
  { name: 'day', ms: 86_400_000 },
  { name: 'hour', ms: 3_600_000 },
  { name: 'minute', ms: 60_000 },
] as const;

/** How long ago, in its largest whole unit: "3 days", "1 hour", "less than a minute". */
export function age(since: Date, now: Date): string {
  const elapsed = now.getTime() - since.getTime();
  const unit = AGE_UNITS.find(({ ms }) => elapsed >= ms);
  if (!unit) return 'less than a minute';
  const count = Math.floor(elapsed / unit.ms);
  return `${count} ${unit.name}${count === 1 ? '' : 's'}`;
}
