import { createHash } from 'node:crypto';
import type { CompanionQuery, CompanionStatement } from '../db/companion-statement.js';
import { normalizeEmail } from '../account/email.js';
import { networkKey } from './network-key.js';
import type { Limit, RateLimits } from './rate-limits.js';

export type SignInGate =
  | {
      allowed: true;
      /** The credentials were right: this attempt does not count. */
      succeeded(): Promise<void>;
      /** What succeeded() does, as a statement to run along another (the sign-in's audit record): one round trip for both. */
      success: CompanionStatement;
    }
  | { allowed: false; retryAfterSeconds: number };

export interface SignInThrottle {
  /**
   * Counts a sign-in attempt for this email and client IP before the password is checked: the
   * sign-in form and every API route that checks a current password, on the same counters, so
   * that an attacker gains nothing by alternating between them.
   */
  attempt(email: string, ip: string): Promise<SignInGate>;
  /** The same count, for the statement that reads the credentials to run first thing (see CompanionQuery): one round trip for both. */
  attemptAlong(email: string, ip: string): CompanionQuery<SignInGate>;
}

export interface SignInLimits {
  signInFailuresPerAccount: number;
  signInFailuresPerIp: number;
  signInLockoutSeconds: number;
}

/**
 * Brute-force protection for every password check. Every attempt is counted up front and given back
 * when it succeeds, so that a burst of parallel guesses cannot all slip in before the first
 * failure is recorded. The account key is counted whether or not such an account exists, so a
 * lockout says nothing about which emails are registered.
 */
export function createSignInThrottle(rateLimits: RateLimits, limits: SignInLimits): SignInThrottle {
  const window = { durationSeconds: limits.signInLockoutSeconds, blockSeconds: limits.signInLockoutSeconds };
  const perIp: Limit = { keyPrefix: 'signin_ip', points: limits.signInFailuresPerIp, ...window };
  const perAccount: Limit = { keyPrefix: 'signin_account', points: limits.signInFailuresPerAccount, ...window };

  const countedOf = (email: string, ip: string) => ({ network: { limit: perIp, key: networkKey(ip) }, account: { limit: perAccount, key: accountKey(email) } });
  const gateOf = ({ network, account }: ReturnType<typeof countedOf>, wait: number | null): SignInGate => {
    if (wait !== null) return { allowed: false, retryAfterSeconds: wait };
    const settlement = { clear: [account], refund: [network] };
    return {
      allowed: true,
      succeeded: () => rateLimits.settle(settlement),
      success: rateLimits.settlement(settlement),
    };
  };

  return {
    async attempt(email, ip) {
      const counted = countedOf(email, ip);
      return gateOf(counted, await rateLimits.consume([counted.network, counted.account]));
    },

    attemptAlong(email, ip) {
      const counted = countedOf(email, ip);
      const consumption = rateLimits.consumption([counted.network, counted.account]);
      return { ...consumption, read: (value) => gateOf(counted, consumption.read(value)) };
    },
  };
}

/**
 * The normalised, lower-cased email, hashed: the table then holds no typed addresses (people
 * type passwords into email fields) and any length fits its key column.
 */
function accountKey(email: string): string {
  return createHash('sha256').update(normalizeEmail(email).toLowerCase()).digest('base64url');
}
