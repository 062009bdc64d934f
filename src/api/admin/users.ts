import { z } from 'zod';
import { EDITABLE_PROFILE_FIELDS, type ProfileChanges } from '../../account/profile-changes.js';
import type { UserDetails, UserAdministration } from '../../admin/user-administration.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../admin/user-administration.js';
import { adminOf } from '../bearer-auth.js';
import { grantListSchema, presentGrant, presentSession, sessionListSchema } from '../connected-apps.js';
import type { ApiRoutes } from '../operation.js';
import { inApiNames, presentUser, userRepresentationSchema } from '../user-representation.js';
import { requiredString } from '../users.js';
import { CLAIM_OF_PROFILE_FIELD } from '../../account/profile-claims.js';

type EditableField = (typeof EDITABLE_PROFILE_FIELDS)[number];
type EditableClaim = (typeof CLAIM_OF_PROFILE_FIELD)[EditableField];

const claimValue = z.string({ error: 'must be a string, or null to clear it' }).nullable().optional();
const claims = Object.fromEntries(EDITABLE_PROFILE_FIELDS.map((field) => [CLAIM_OF_PROFILE_FIELD[field], claimValue])) as Record<EditableClaim, typeof claimValue>;
const email = requiredString('email').max(320, 'email must be at most 320 characters');
const emailVerified = z.boolean({ error: 'email_verified must be true or false' });
const status = z.enum(['active', 'disabled', 'locked'], { error: 'status must be active, disabled or locked' });

/** Shape only, in claim names: the service owns the rules (email syntax, password policy, claim formats). */
const newUserSchema = z
  .strictObject({
    email,
    password: requiredString('password').max(4096, 'password must be at most 4096 characters').optional().describe('Without one, the user is sent a link to choose one (or it is returned once, when mail is off).'),
    email_verified: emailVerified.optional(),
    roles: z.array(z.string().max(255)).max(100).optional().describe('Names of roles to assign; an unknown one refuses the creation.'),
    ...claims,
  })
  .meta({ id: 'AdminNewUser' });

const userPatchSchema = z
  .strictObject({
    email: email.optional().describe('Replaces the address at once; unless email_verified says otherwise, the new one is not verified.'),
    email_verified: emailVerified.optional(),
    status: status.optional().describe('Anything but active ends every session, grant and token of the user at once.'),
    ...claims,
  })
  .meta({ id: 'AdminUserPatch', description: 'Fields to change: an absent one is kept, a null claim cleared.' });

const userDetailsSchema = userRepresentationSchema
  .extend({ roles: z.array(z.string()).describe('The names of the roles the user holds.'), sessions: z.int().describe('Browsers signed in to Latch.'), grants: z.int().describe('Apps the user gave access.') })
  .meta({ id: 'AdminUser', description: 'A user, with counts of their sessions and grants.' });

const userPageSchema = z
  .object({ users: z.array(userRepresentationSchema), next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last.') })
  .meta({ id: 'AdminUserPage' });

const createdSchema = userRepresentationSchema
  .extend({ password_reset_link: z.string().optional().describe('Only when no password was given and mail is off: the link for the user to choose one, shown this once.') })
  .meta({ id: 'AdminCreatedUser' });

const resetSchema = z
  .object({ mailed: z.boolean(), link: z.string().optional().describe('Only when mail is off: the reset link, shown this once.') })
  .meta({ id: 'AdminPasswordReset' });

const listQuery = z.object({
  query: z.string().max(320).optional().describe('A case-insensitive substring of the email or the name.'),
  status: status.optional(),
  role: z.string().max(255).optional().describe('Only users holding the role of this name.'),
  cursor: z.string().max(512).optional().describe('The next_cursor of the previous page.'),
  limit: z
    .string()
    .regex(/^\d{1,3}$/, `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
    .transform(Number)
    .optional()
    .describe(`Users per page: ${DEFAULT_PAGE_SIZE} unless given, at most ${MAX_PAGE_SIZE}.`),
});

/** The service's profile field names (givenName), as clients send them (given_name). */
const API_NAME_OF_FIELD: Record<string, string> = { ...CLAIM_OF_PROFILE_FIELD, emailVerified: 'email_verified' };

function profileOf(body: Partial<Record<EditableClaim, string | null | undefined>>): ProfileChanges {
  return Object.fromEntries(EDITABLE_PROFILE_FIELDS.filter((field) => body[CLAIM_OF_PROFILE_FIELD[field]] !== undefined).map((field) => [field, body[CLAIM_OF_PROFILE_FIELD[field]]]));
}


const presentDetails = ({ user, roles, sessions, grants }: UserDetails) => ({ ...presentUser(user), roles, sessions, grants });

/**
 * The admin API's users (below /api/v1/admin, guarded by the admin router): the same service as
 * `latch users`. Ids are the users' ids; an unknown or malformed one is 404.
 */
export function mountAdminUserRoutes(routes: ApiRoutes, { users }: { users: UserAdministration }): void {
  const storage = ['internal', 'unavailable'] as const;
  const idOf = (params: Record<string, string | undefined>) => params.id ?? '';
  const actorOf = (ctx: Parameters<typeof adminOf>[0]) => adminOf(ctx).actor;

  routes.add(
    {
      id: 'adminListUsers',
      method: 'get',
      path: '/users',
      summary: 'Find users',
      description: 'By a substring of the email or name and by status, oldest first, in pages: follow next_cursor until it is null. Users created meanwhile appear on later pages, never twice.',
      query: listQuery,
      replies: { 200: { description: 'A page of users.', body: userPageSchema } },
      problems: ['invalid_input', ...storage],
    },
    async (_ctx, _body, filter) => {
      const page = await users.list(filter);
      return { status: 200, body: { users: page.items.map(presentUser), next_cursor: page.nextCursor ?? null } };
    },
  );

  routes.add(
    {
      id: 'adminCreateUser',
      method: 'post',
      path: '/users',
      summary: 'Create a user',
      description: 'The password policy applies to a password given. Without one, the user is mailed a link to choose one; when Latch sends no mail, the link is in the answer, once.',
      body: newUserSchema,
      replies: { 201: { description: 'The new user.', body: createdSchema, headers: { Location: 'The path of the new user.' } } },
      problems: ['invalid_input', 'conflict', ...storage],
    },
    async (ctx, { email: address, password, email_verified, roles, ...rest }) => {
      const { user, link } = await inApiNames(users.create({ email: address, password, emailVerified: email_verified, roles, profile: profileOf(rest) }, actorOf(ctx)), API_NAME_OF_FIELD);
      ctx.set('Location', `${ctx.path}/${user.id}`);
      return { status: 201, body: { ...presentUser(user), ...(link === undefined ? {} : { password_reset_link: link }) } };
    },
  );

  routes.add(
    { id: 'adminGetUser', method: 'get', path: '/users/:id', summary: 'Read a user', replies: { 200: { description: 'The user.', body: userDetailsSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: presentDetails(await users.show(idOf(ctx.params))) }),
  );

  routes.add(
    {
      id: 'adminUpdateUser',
      method: 'patch',
      path: '/users/:id',
      summary: 'Change a user',
      description: 'Profile claims, email, email_verified and status, in one transaction: a refused field changes nothing.',
      body: userPatchSchema,
      replies: { 200: { description: 'The user as changed.', body: userRepresentationSchema } },
      problems: ['invalid_input', 'not_found', 'conflict', ...storage],
    },
    async (ctx, { email: address, email_verified, status: next, ...rest }) => {
      const profile = profileOf(rest);
      const user = await inApiNames(users.update(idOf(ctx.params), { email: address, emailVerified: email_verified, status: next, profile }, actorOf(ctx)), API_NAME_OF_FIELD);
      return { status: 200, body: presentUser(user) };
    },
  );

  routes.add(
    {
      id: 'adminDeleteUser',
      method: 'delete',
      path: '/users/:id',
      summary: 'Delete a user',
      description: 'Every session, grant and token of the user ends, then the account and all its data go.',
      replies: { 204: { description: 'Deleted.' } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => {
      await users.delete(idOf(ctx.params), actorOf(ctx));
      return { status: 204 };
    },
  );

  for (const [verb, change, summary] of [
    ['disable', users.disable, 'Disable a user: no sign-in, and every session, grant and token ends at once'],
    ['enable', users.enable, 'Enable a user: they may sign in again'],
  ] as const) {
    routes.add(
      { id: `admin${verb === 'disable' ? 'Disable' : 'Enable'}User`, method: 'post', path: `/users/:id/${verb}`, summary, replies: { 200: { description: 'The user as changed.', body: userRepresentationSchema } }, problems: ['not_found', ...storage] },
      async (ctx) => ({ status: 200, body: presentUser(await change(idOf(ctx.params), actorOf(ctx))) }),
    );
  }

  routes.add(
    {
      id: 'adminResetUserPassword',
      method: 'post',
      path: '/users/:id/password-reset',
      summary: "Send a user a password reset link",
      description: 'The link self-service password reset mails, valid PASSWORD_RESET_TTL; earlier ones stop working. When Latch sends no mail (production without SMTP_URL) it is returned instead, this once.',
      replies: { 202: { description: 'Mailed, or returned.', body: resetSchema } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => {
      const { link } = await users.resetPassword(idOf(ctx.params), actorOf(ctx));
      return { status: 202, body: link === undefined ? { mailed: true } : { mailed: false, link } };
    },
  );

  routes.add(
    { id: 'adminListUserSessions', method: 'get', path: '/users/:id/sessions', summary: "List a user's sessions", replies: { 200: { description: 'Every session, the most recently seen first.', body: sessionListSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: { sessions: (await users.sessions(idOf(ctx.params))).map(presentSession) } }),
  );

  routes.add(
    {
      id: 'adminEndUserSessions',
      method: 'delete',
      path: '/users/:id/sessions',
      summary: "Sign a user out everywhere",
      description: 'Every session ends, with the grants made in it without offline_access.',
      replies: { 204: { description: 'Signed out.' } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => {
      await users.endSessions(idOf(ctx.params), actorOf(ctx));
      return { status: 204 };
    },
  );

  routes.add(
    { id: 'adminListUserGrants', method: 'get', path: '/users/:id/grants', summary: 'List the apps a user gave access', replies: { 200: { description: 'Every grant, most recent first.', body: grantListSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: { grants: (await users.grants(idOf(ctx.params))).map(presentGrant) } }),
  );

  routes.add(
    {
      id: 'adminRevokeUserGrants',
      method: 'delete',
      path: '/users/:id/grants',
      summary: "Revoke every app's access to a user",
      description: "Every grant, with its codes and tokens: each app's next refresh fails with invalid_grant.",
      replies: { 204: { description: 'Revoked.' } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => {
      await users.revokeGrants(idOf(ctx.params), actorOf(ctx));
      return { status: 204 };
    },
  );
}
