import { createHash } from 'node:crypto';
import { normalizeEmail } from '../account/email.js';
import { TooManyRequestsError } from '../errors.js';
import type { TokenPurpose } from '../self-service/account-tokens.js';
import type { Limit, RateLimits } from './rate-limits.js';

export interface MailThrottle {
  /**
   * Counts one link mail of this purpose for the account (when known) and for the address, and
   * throws TooManyRequestsError past the limit. The address is counted whether or not an account
   * has it, so that a refusal tells nothing about which addresses are registered.
   */
  attempt(purpose: TokenPurpose, address: string, userId?: string): Promise<void>;
}

const HOUR = 3600;

export function createMailThrottle(rateLimits: RateLimits, { mailsPerHour }: { mailsPerHour: number }): MailThrottle {
  const perAccount: Limit = { keyPrefix: 'mail_account', points: mailsPerHour, durationSeconds: HOUR };
  const perAddress: Limit = { keyPrefix: 'mail_address', points: mailsPerHour, durationSeconds: HOUR };
  return {
    async attempt(purpose, address, userId) {
      const counted = { limit: perAddress, key: `${purpose}:${addressKey(address)}` };
      const wait = await rateLimits.consume(userId === undefined ? [counted] : [counted, { limit: perAccount, key: `${purpose}:${userId}` }]);
      if (wait !== null) throw new TooManyRequestsError(`Too many mails of this kind have been asked for. Try again in ${Math.ceil(wait / 60)} minute(s).`, wait);
    },
  };
}

/** Hashed, like the sign-in throttle's keys: the counters table holds no typed addresses. */
function addressKey(address: string): string {
  return createHash('sha256').update(normalizeEmail(address).toLowerCase()).digest('base64url');
}
