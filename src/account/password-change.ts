import { TooManyRequestsError, ValidationError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { SignInThrottle } from '../throttle/sign-in-throttle.js';
import type { AccountService } from './account-service.js';

/** Who is changing the password: the account, and the network the request came from (for the throttle). */
export interface Changer {
  user: { id: string; email: string };
  ip: string;
}

/** What the person changing the password keeps: the session and grant they are using. */
export interface Kept {
  sessionUid?: string;
  grantId?: string;
}

/**
 * Throws as AccountService.changePassword does (ValidationError fields currentPassword, newPassword),
 * and TooManyRequestsError once the current-password guesses reach the sign-in limits.
 */
export type PasswordChange = (changer: Changer, currentPassword: string, newPassword: string, kept: Kept) => Promise<void>;

/**
 * A password change as the user makes it, from the account page or the REST API alike. The
 * current-password check counts on the sign-in counters, so a stolen session or token does not
 * become a password oracle; whoever knew the old password is signed out everywhere; the session
 * and grant in use stay.
 */
export function createPasswordChange({
  accounts,
  tokens,
  signInThrottle,
  audit,
}: {
  accounts: Pick<AccountService, 'changePassword'>;
  tokens: Pick<OidcStore, 'revokeByAccountId'>;
  signInThrottle: SignInThrottle;
  audit: AuditLog;
}): PasswordChange {
  return async ({ user, ip }, currentPassword, newPassword, { sessionUid, grantId }) => {
    const gate = await signInThrottle.attempt(user.email, ip);
    if (!gate.allowed) throw new TooManyRequestsError('Too many wrong passwords. Try again later.', gate.retryAfterSeconds);
    try {
      await accounts.changePassword(user.id, currentPassword, newPassword);
    } catch (error) {
      // Only a wrong current password was a guess; a new password the policy refuses was not.
      if (!(error instanceof ValidationError) || error.issues.some((issue) => issue.field === 'currentPassword')) throw error;
      await gate.succeeded();
      throw error;
    }
    await gate.succeeded();
    const revoked = await tokens.revokeByAccountId(user.id, { exceptGrantId: grantId, exceptSessionUid: sessionUid });
    await audit.record('account.other_sessions_ended', { userId: user.id, revoked });
  };
}
