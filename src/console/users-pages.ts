import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { normalizeEmail } from '../account/email.js';
import { UserNotFoundError } from '../account/errors.js';
import { isUuid } from '../account/user-repository.js';
import type { UserStatus } from '../account/user.js';
import type { Administration } from '../admin/administration.js';
import type { Authorization } from '../authorization/authorization.js';
import { ADMIN_ROLE } from '../authorization/seed.js';
import { ValidationError } from '../errors.js';
import { formField } from '../interactions/form.js';
import { CONSOLE_PATH } from './console-client.js';
import type { ConsolePageKit } from './console-pages.js';
import { auditRow, formatted, roleHref, userHref, userRow } from './format.js';

/** What a user's page says after an action (?done=...); a fixed list, so a link cannot put words on the page. */
const NOTICES = {
  disabled: 'The user is disabled: their sessions, grants and tokens have ended.',
  enabled: 'The user is enabled again. They sign in anew; nothing that ended comes back.',
  reset: 'A password reset link has been mailed to the user.',
  signed_out: 'Every session of the user has been signed out.',
  assigned: 'The role has been assigned: the user’s next tokens carry what it grants.',
  already_held: 'The user already held this role: nothing changed.',
  unassigned: 'The role has been taken from the user: their next tokens no longer carry what only it granted.',
  not_held: 'The user did not hold this role: nothing changed.',
} as const;

/** Said on the page itself: the console will not show this administrator another one. */
const LEFT_ADMIN = 'You have taken the admin role from yourself: the admin console closes to you at your next click. Another administrator can give it back.';

const STATUSES: { value: '' | UserStatus; label: string }[] = [
  { value: '', label: 'Any' },
  { value: 'active', label: 'Active' },
  { value: 'disabled', label: 'Disabled' },
  { value: 'locked', label: 'Locked' },
];

const PROFILE_LABELS = { name: 'Name', givenName: 'Given name', familyName: 'Family name', nickname: 'Nickname', preferredUsername: 'Username', phoneNumber: 'Phone number', locale: 'Language', zoneinfo: 'Time zone' } as const;

const PAGE_SIZE = 50;
const RECENT_EVENTS = 20;

const text = (value: unknown) => (typeof value === 'string' ? value : '');
const isNotice = (value: unknown): value is keyof typeof NOTICES => typeof value === 'string' && Object.hasOwn(NOTICES, value);

function statusOf(value: string): UserStatus | undefined {
  if (value === '') return undefined;
  if (STATUSES.some((status) => status.value === value)) return value as UserStatus;
  throw new ValidationError([{ field: 'status', message: 'is not a user status' }], 'The status filter is not valid.');
}

/** The user of the path, or a 404 page: a malformed id names no user either. */
function userIdOf(ctx: Context): string {
  const { id } = ctx.params as { id?: string };
  if (id === undefined || !isUuid(id)) throw new UserNotFoundError();
  return id;
}

/** The role a form names; empty only when it was forged or sent half-filled. */
function roleOf(ctx: Context): string {
  const role = formField(ctx, 'role');
  if (role === '') throw new ValidationError([{ field: 'role', message: 'is required' }], 'Choose a role.');
  return role;
}

function done(ctx: Context, id: string, notice: keyof typeof NOTICES): void {
  ctx.status = 303;
  ctx.redirect(`${userHref(id)}?done=${notice}`);
}

export interface UsersPagesDependencies extends ConsolePageKit {
  admin: Pick<Administration, 'users' | 'auditEvents' | 'roles'>;
  /** The roles there are, for the role filter and the assignment form. */
  authorization: Pick<Authorization, 'roles'>;
  clientName: (clientId: string) => Promise<string | undefined>;
}

/** Users: the list (search, status and role filters, keyset pages), a user's page, and its actions. */
export function usersPages({ admin, authorization, views, page, form, recent, reauthenticate, clientName, actorOf }: UsersPagesDependencies): Middleware[] {
  const router = new Router({ prefix: `${CONSOLE_PATH}/users` });
  const roleNames = async () => (await authorization.roles.list()).map(({ name }) => name);

  router.get('/', ...page, async (ctx) => {
    const query = text(ctx.query.q).trim();
    const status = text(ctx.query.status);
    const role = text(ctx.query.role);
    const cursor = text(ctx.query.cursor) || undefined;
    const names = await roleNames();
    if (role !== '' && !names.includes(role)) throw new ValidationError([{ field: 'role', message: 'is not a role' }], 'The role filter names no role.');
    const { items, nextCursor } = await admin.users.list({ query: query || undefined, status: statusOf(status), role: role || undefined, cursor, limit: PAGE_SIZE });
    const kept = { ...(query ? { q: query } : {}), ...(status ? { status } : {}), ...(role ? { role } : {}) };
    const next = nextCursor === undefined ? undefined : `${CONSOLE_PATH}/users?${new URLSearchParams({ ...kept, cursor: nextCursor }).toString()}`;
    const notice = ctx.query.done === 'deleted' ? 'The user has been deleted.' : undefined;
    const roles = [{ value: '', label: 'Any' }, ...names.map((name) => ({ value: name, label: name }))];
    await views.render(ctx, 'users', { query, status, statuses: STATUSES, role, roles, users: items.map(userRow), nextHref: next, notice });
  });

  async function renderUser(ctx: Context, id: string, { notice, link }: { notice?: string; link?: string } = {}) {
    const [{ user, roles: held }, sessions, grants, events, names] = await Promise.all([
      admin.users.show(id),
      admin.users.sessions(id),
      admin.users.grants(id),
      admin.auditEvents({ user: id, limit: RECENT_EVENTS }),
      roleNames(),
    ]);
    const nameOf = async (clientId: string) => (await clientName(clientId)) ?? clientId;
    await views.render(
      ctx,
      'user',
      {
        user: {
          ...userRow(user),
          profile: Object.entries(PROFILE_LABELS).flatMap(([field, label]) => {
            const value = user.profile[field as keyof typeof PROFILE_LABELS];
            return value ? [{ label, value }] : [];
          }),
        },
        sessions: await Promise.all(
          sessions.map(async (session) => ({ device: session.device, ip: session.ip, lastSeen: formatted(session.lastSeenAt), signedIn: formatted(session.signedInAt), apps: await Promise.all(session.clientIds.map(nameOf)) })),
        ),
        apps: grants.map((grant) => ({ name: grant.clientName ?? grant.clientId, scopes: grant.scopes, since: formatted(grant.grantedAt) ?? '' })),
        events: events.items.map(auditRow),
        auditHref: `${CONSOLE_PATH}/audit?${new URLSearchParams({ user: id }).toString()}`,
        roles: { held: held.map((name) => ({ name, href: roleHref(name) })), assignable: names.filter((name) => !held.includes(name)) },
        notice,
        link,
      },
      { title: user.email },
    );
  }

  router.get('/:id', ...page, async (ctx) => {
    await renderUser(ctx, userIdOf(ctx), { notice: isNotice(ctx.query.done) ? NOTICES[ctx.query.done] : undefined });
  });

  router.post('/:id/disable', ...form, async (ctx) => {
    const id = userIdOf(ctx);
    await admin.users.disable(id, actorOf(ctx));
    done(ctx, id, 'disabled');
  });

  router.post('/:id/enable', ...form, async (ctx) => {
    const id = userIdOf(ctx);
    await admin.users.enable(id, actorOf(ctx));
    done(ctx, id, 'enabled');
  });

  router.post('/:id/sign-out', ...form, async (ctx) => {
    const id = userIdOf(ctx);
    await admin.users.endSessions(id, actorOf(ctx));
    done(ctx, id, 'signed_out');
  });

  router.post('/:id/reset-password', ...form, async (ctx) => {
    const id = userIdOf(ctx);
    const { link } = await admin.users.resetPassword(id, actorOf(ctx));
    if (link === undefined) return done(ctx, id, 'reset');
    // Mail is off: the link is shown once, on this response, and never put in an address.
    await renderUser(ctx, id, { link });
  });

  router.post('/:id/roles', ...form, async (ctx) => {
    const id = userIdOf(ctx);
    const assigned = await admin.roles.assign({ user: id }, roleOf(ctx), actorOf(ctx));
    done(ctx, id, assigned ? 'assigned' : 'already_held');
  });

  // The services let administrators take the admin role from themselves (another admin can give it back); the page says what follows.
  router.post('/:id/roles/unassign', ...form, async (ctx) => {
    const id = userIdOf(ctx);
    const role = roleOf(ctx);
    const unassigned = await admin.roles.unassign({ user: id }, role, actorOf(ctx));
    if (unassigned && role === ADMIN_ROLE && id === actorOf(ctx)) return renderUser(ctx, id, { notice: LEFT_ADMIN });
    done(ctx, id, unassigned ? 'unassigned' : 'not_held');
  });

  // Deleting is irreversible: a confirmation page, the email typed, and a sign-in of the last few minutes.
  router.get('/:id/delete', ...page, async (ctx) => {
    const id = userIdOf(ctx);
    const { user } = await admin.users.show(id);
    if (await reauthenticate(ctx, `${userHref(id)}/delete`)) return;
    await views.render(ctx, 'confirm-delete', { user: userRow(user) });
  });

  router.post('/:id/delete', ...form, recent, async (ctx) => {
    const id = userIdOf(ctx);
    const { user } = await admin.users.show(id);
    // Addresses are unique whatever their letter case (users.find), so the case typed does not matter either.
    if (normalizeEmail(formField(ctx, 'email')).toLowerCase() !== user.email.toLowerCase()) {
      return views.render(ctx, 'confirm-delete', { user: userRow(user), error: 'This is not the user’s email address: nothing was deleted.' }, { status: 422 });
    }
    await admin.users.delete(id, actorOf(ctx));
    ctx.status = 303;
    ctx.redirect(`${CONSOLE_PATH}/users?done=deleted`);
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
