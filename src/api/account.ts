import type Router from '@koa/router';
import { z } from 'zod';
import type { AccountService } from '../account/account-service.js';
import { UserNotFoundError } from '../account/errors.js';
import type { ProfileChanges } from '../account/profile-changes.js';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { OidcStore } from '../provider/oidc-store.js';
import { callerOf, type BearerAuth } from './bearer-auth.js';
import { jsonBody, parseBody } from './guard.js';
import { CLAIM_OF_PROFILE_FIELD, presentUser } from './user-representation.js';
import { requiredString } from './users.js';

/** The claims a user edits, as the account service names them; phone_number_verified is not one. */
const EDITABLE_PROFILE_FIELDS = [
  'name',
  'givenName',
  'familyName',
  'middleName',
  'nickname',
  'preferredUsername',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'phoneNumber',
] as const satisfies readonly (keyof ProfileChanges)[];

type EditableField = (typeof EDITABLE_PROFILE_FIELDS)[number];
type EditableClaim = (typeof CLAIM_OF_PROFILE_FIELD)[EditableField];

const claimValue = z.string({ error: 'must be a string, or null to clear it' }).nullable().optional();

/** Shape only, in claim names: the account service owns the rules (lengths, URLs, dates). */
const profilePatchSchema = z.strictObject(
  Object.fromEntries(EDITABLE_PROFILE_FIELDS.map((field) => [CLAIM_OF_PROFILE_FIELD[field], claimValue])) as Record<EditableClaim, typeof claimValue>,
);

const password = (what: string) => requiredString(what).max(4096, `${what} must be at most 4096 characters`);
const passwordChangeSchema = z.strictObject({ current_password: password('current_password'), new_password: password('new_password') });
const deletionSchema = z.strictObject({ current_password: password('current_password') });

/** The account service's field names, as this API's clients name them. */
const API_NAME_OF_FIELD: Record<string, string> = {
  ...CLAIM_OF_PROFILE_FIELD,
  currentPassword: 'current_password',
  newPassword: 'new_password',
};

export interface AccountRoutesDependencies {
  accounts: AccountService;
  bearer: BearerAuth;
  tokens: Pick<OidcStore, 'revokeByAccountId'>;
  logger: Logger;
}

/**
 * The signed-in user's own account, reached with an access token issued for it. The current
 * password, not the token's scope, is what allows changing the password or deleting the account:
 * a stolen token alone must not be enough for either.
 */
export function mountAccountRoutes(router: Router, { accounts, bearer, tokens, logger }: AccountRoutesDependencies): void {
  router.get('/users/me', bearer.require('openid'), (ctx) => {
    ctx.body = presentUser(callerOf(ctx).user);
  });

  router.patch('/users/me', bearer.require('profile'), jsonBody(), async (ctx) => {
    const { user } = callerOf(ctx);
    const patch = parseBody(ctx, profilePatchSchema);
    const changes: ProfileChanges = Object.fromEntries(
      EDITABLE_PROFILE_FIELDS.filter((field) => patch[CLAIM_OF_PROFILE_FIELD[field]] !== undefined).map((field) => [field, patch[CLAIM_OF_PROFILE_FIELD[field]]]),
    );
    ctx.body = presentUser(await inApiNames(accounts.updateProfile(user.id, changes)));
  });

  router.put('/users/me/password', bearer.require('openid'), jsonBody(), async (ctx) => {
    const { user, grantId, sessionUid } = callerOf(ctx);
    const input = parseBody(ctx, passwordChangeSchema);
    await inApiNames(accounts.changePassword(user.id, input.current_password, input.new_password));
    // Whoever knew the old password is signed out everywhere; the caller keeps its session and grant.
    const revoked = await tokens.revokeByAccountId(user.id, { exceptGrantId: grantId, exceptSessionUid: sessionUid });
    logger.info({ event: 'account.other_sessions_ended', userId: user.id, revoked }, 'other sessions and tokens ended after a password change');
    ctx.status = 204;
  });

  router.delete('/users/me', bearer.require('openid'), jsonBody(), async (ctx) => {
    const { user } = callerOf(ctx);
    const input = parseBody(ctx, deletionSchema);
    // The same check, in result and in time, as signing in with the account's own email address.
    const confirmed = await accounts.authenticate(user.email, input.current_password);
    if (confirmed?.id !== user.id) {
      throw new ValidationError([{ field: 'current_password', message: 'The current password is not correct.' }]);
    }
    // Tokens first: should the deletion then fail, nothing issued for the account still works.
    const revoked = await tokens.revokeByAccountId(user.id);
    await accounts.delete(user.id);
    logger.info({ event: 'account.deleted_by_user', userId: user.id, revoked }, 'account deleted by its user');
    ctx.status = 204;
  });

  // Where registration's Location points. Only the caller's own account: any other id is as unknown as a missing one.
  router.get('/users/:id', bearer.require('openid'), (ctx) => {
    const { user } = callerOf(ctx);
    if (ctx.params.id !== user.id) throw new UserNotFoundError();
    ctx.body = presentUser(user);
  });
}

/** Renames the fields of the account service's validation issues to the names the client sent. */
async function inApiNames<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      error.issues.map((issue) => ({ ...issue, field: API_NAME_OF_FIELD[issue.field] ?? issue.field })),
      error.message,
    );
  }
}
