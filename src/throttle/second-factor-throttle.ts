import type { Limit, RateLimits } from './rate-limits.js';
import type { SignInGate, SignInLimits } from './sign-in-throttle.js';

export interface SecondFactorThrottle {
  /**
   * Counts an attempt at a second factor of this account (a TOTP or recovery code, at sign-in or
   * when confirming an enrolment) before it is checked. The password was right already, so the
   * account is the key: an attacker holding it gains nothing by changing address.
   */
  attempt(userId: string): Promise<SignInGate>;
}

/** The same rule as for passwords (SIGNIN_MAX_FAILURES_PER_ACCOUNT per SIGNIN_LOCKOUT_SECONDS), on a counter of its own. */
export function createSecondFactorThrottle(rateLimits: RateLimits, limits: Pick<SignInLimits, 'signInFailuresPerAccount' | 'signInLockoutSeconds'>): SecondFactorThrottle {
  const perAccount: Limit = {
    keyPrefix: 'second_factor_account',
    points: limits.signInFailuresPerAccount,
    durationSeconds: limits.signInLockoutSeconds,
    blockSeconds: limits.signInLockoutSeconds,
  };
  return {
    async attempt(userId) {
      const account = { limit: perAccount, key: userId };
      const wait = await rateLimits.consume([account]);
      if (wait !== null) return { allowed: false, retryAfterSeconds: wait };
      const settlement = { clear: [account] };
      return { allowed: true, succeeded: () => rateLimits.settle(settlement), success: rateLimits.settlement(settlement) };
    },
  };
}
