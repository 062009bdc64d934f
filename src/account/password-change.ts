import type { Logger } from '../logger.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { AccountService } from './account-service.js';

/** What the person changing the password keeps: the session and grant they are using. */
export interface Kept {
  sessionUid?: string;
  grantId?: string;
}

/** Throws as AccountService.changePassword does (ValidationError fields currentPassword, newPassword). */
export type PasswordChange = (userId: string, currentPassword: string, newPassword: string, kept: Kept) => Promise<void>;

/**
 * A password change as the user makes it, from the account page or the REST API alike: whoever
 * knew the old password is signed out everywhere; the session and grant in use stay.
 */
export function createPasswordChange({ accounts, tokens, logger }: { accounts: Pick<AccountService, 'changePassword'>; tokens: Pick<OidcStore, 'revokeByAccountId'>; logger: Logger }): PasswordChange {
  return async (userId, currentPassword, newPassword, { sessionUid, grantId }) => {
    await accounts.changePassword(userId, currentPassword, newPassword);
    const revoked = await tokens.revokeByAccountId(userId, { exceptGrantId: grantId, exceptSessionUid: sessionUid });
    logger.info({ event: 'account.other_sessions_ended', userId, revoked }, 'other sessions and tokens ended after a password change');
  };
}
