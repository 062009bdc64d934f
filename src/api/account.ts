import { z } from 'zod';
import type { AccountService } from '../account/account-service.js';
import { UserNotFoundError } from '../account/errors.js';
import type { PasswordChange } from '../account/password-change.js';
import { EDITABLE_PROFILE_FIELDS, type ProfileChanges } from '../account/profile-changes.js';
import type { AuditLog } from '../audit/audit-log.js';
import { TooManyRequestsError, ValidationError } from '../errors.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { SelfService } from '../self-service/self-service.js';
import type { SignInThrottle } from '../throttle/sign-in-throttle.js';
import { callerOf } from './bearer-auth.js';
import type { ApiRoutes } from './operation.js';
import { inApiNames, presentUser, userRepresentationSchema } from './user-representation.js';
import { requiredString } from './users.js';
import { CLAIM_OF_PROFILE_FIELD } from '../account/profile-claims.js';

type EditableField = (typeof EDITABLE_PROFILE_FIELDS)[number];
type EditableClaim = (typeof CLAIM_OF_PROFILE_FIELD)[EditableField];

const claimValue = z.string({ error: 'must be a string, or null to clear it' }).nullable().optional();

/** Shape only, in claim names: the account service owns the rules (lengths, URLs, dates). */
const profilePatchSchema = z
  .strictObject({
    ...(Object.fromEntries(EDITABLE_PROFILE_FIELDS.map((field) => [CLAIM_OF_PROFILE_FIELD[field], claimValue])) as Record<EditableClaim, typeof claimValue>),
    email: requiredString('email').max(320, 'email must be at most 320 characters').optional().describe('A new address: it replaces the current one only once confirmed by the link mailed to it.'),
  })
  .meta({ id: 'ProfilePatch', description: 'Claims to change: an absent claim is kept, null clears it.' });

const password = (what: string) => requiredString(what).max(4096, `${what} must be at most 4096 characters`);
const passwordChangeSchema = z.strictObject({ current_password: password('current_password'), new_password: password('new_password') }).meta({ id: 'PasswordChange' });
const deletionSchema = z.strictObject({ current_password: password('current_password') }).meta({ id: 'AccountDeletion' });

/** The account service's field names, as this API's clients name them. */
const API_NAME_OF_FIELD: Record<string, string> = {
  ...CLAIM_OF_PROFILE_FIELD,
  currentPassword: 'current_password',
  newPassword: 'new_password',
};

export interface AccountRoutesDependencies {
  accounts: AccountService;
  selfService: Pick<SelfService, 'requestEmailChange'>;
  tokens: Pick<OidcStore, 'revokeByAccountId'>;
  changePassword: PasswordChange;
  /** Current-password checks count as sign-in attempts: a stolen token must not become a password oracle. */
  signInThrottle: SignInThrottle;
  audit: AuditLog;
}

/**
 * The signed-in user's own account, reached with an access token issued for it. The current
 * password, not the token's scope, is what allows changing the password or deleting the account:
 * a stolen token alone must not be enough for either.
 */
export function mountAccountRoutes(routes: ApiRoutes, { accounts, selfService, tokens, changePassword, signInThrottle, audit }: AccountRoutesDependencies): void {
  /** Counts a current-password check on the sign-in counters of the account and the client's network. */
  const passwordCheck = async (email: string, ip: string) => {
    const gate = await signInThrottle.attempt(email, ip);
    if (!gate.allowed) throw new TooManyRequestsError('Too many wrong passwords. Try again later.', gate.retryAfterSeconds);
    return gate;
  };

  const theUser = { description: 'The signed-in user.', body: userRepresentationSchema };
  // Every route below reads the account, and the token's record, from the database.
  const storageProblems = ['internal', 'unavailable'] as const;

  routes.add(
    { id: 'getCurrentUser', method: 'get', path: '/users/me', summary: 'Read the signed-in user', scope: 'openid', replies: { 200: theUser }, problems: storageProblems },
    (ctx) => ({ status: 200, body: presentUser(callerOf(ctx).user) }),
  );

  routes.add(
    {
      id: 'updateCurrentUser',
      method: 'patch',
      path: '/users/me',
      summary: "Change the signed-in user's profile claims",
      description: 'A new `email` is mailed a confirmation link and replaces the current address (verified) only once it is followed; the current address is told. The answer shows the account as it is until then.',
      scope: 'profile',
      body: profilePatchSchema,
      replies: { 200: theUser },
      problems: ['invalid_input', 'conflict', 'too_many_requests', ...storageProblems],
    },
    async (ctx, patch) => {
      const { user } = callerOf(ctx);
      if (patch.email !== undefined) await selfService.requestEmailChange(user.id, patch.email);
      const changes: ProfileChanges = Object.fromEntries(
        EDITABLE_PROFILE_FIELDS.filter((field) => patch[CLAIM_OF_PROFILE_FIELD[field]] !== undefined).map((field) => [field, patch[CLAIM_OF_PROFILE_FIELD[field]]]),
      );
      return { status: 200, body: presentUser(await inApiNames(accounts.updateProfile(user.id, changes), API_NAME_OF_FIELD)) };
    },
  );

  routes.add(
    {
      id: 'changePassword',
      method: 'put',
      path: '/users/me/password',
      summary: "Change the signed-in user's password",
      description: "Needs the current password. Ends the user's other sessions and the tokens issued in them; the caller's stay.",
      scope: 'openid',
      body: passwordChangeSchema,
      replies: { 204: { description: 'Changed.' } },
      problems: ['invalid_input', 'too_many_requests', ...storageProblems],
    },
    async (ctx, input) => {
      const { user, grantId, sessionUid } = callerOf(ctx);
      await inApiNames(changePassword({ user, ip: ctx.ip }, input.current_password, input.new_password, { grantId, sessionUid }), API_NAME_OF_FIELD);
      return { status: 204 };
    },
  );

  routes.add(
    {
      id: 'deleteCurrentUser',
      method: 'delete',
      path: '/users/me',
      summary: "Delete the signed-in user's account",
      description: 'Needs the current password. Every session, grant and token of the account ends with it.',
      scope: 'openid',
      body: deletionSchema,
      replies: { 204: { description: 'Deleted.' } },
      problems: ['invalid_input', 'too_many_requests', ...storageProblems],
    },
    async (ctx, input) => {
      const { user } = callerOf(ctx);
      const gate = await passwordCheck(user.email, ctx.ip);
      // The same check, in result and in time, as signing in with the account's own email address.
      const confirmed = await accounts.authenticate(user.email, input.current_password);
      if (confirmed?.id !== user.id) {
        throw new ValidationError([{ field: 'current_password', message: 'The current password is not correct.' }]);
      }
      await gate.succeeded();
      // Tokens first: should the deletion then fail, nothing issued for the account still works.
      const revoked = await tokens.revokeByAccountId(user.id);
      await accounts.delete(user.id);
      await audit.record('account.deleted_by_user', { userId: user.id, revoked });
      return { status: 204 };
    },
  );

  // Where registration's Location points. Only the caller's own account: any other id is as unknown as a missing one.
  routes.add(
    {
      id: 'getUser',
      method: 'get',
      path: '/users/:id',
      summary: 'Read a user by id',
      description: "Only the signed-in user's own id is found; any other is answered as unknown.",
      scope: 'openid',
      replies: { 200: theUser },
      problems: ['not_found', ...storageProblems],
    },
    (ctx) => {
      const { user } = callerOf(ctx);
      if (ctx.params.id !== user.id) throw new UserNotFoundError();
      return { status: 200, body: presentUser(user) };
    },
  );
}

