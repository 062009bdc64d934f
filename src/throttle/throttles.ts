import type pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createRateLimits } from './rate-limits.js';
import { createMailThrottle, type MailThrottle } from './mail-throttle.js';
import { createSecondFactorThrottle, type SecondFactorThrottle } from './second-factor-throttle.js';
import { createRegistrationThrottle, type RegistrationThrottle } from './registration-throttle.js';
import { createSignInThrottle, type SignInThrottle } from './sign-in-throttle.js';

/** The throttles the pages and the REST API share: one counter per rule, whichever surface is used. */
export interface Throttles {
  signIn: SignInThrottle;
  /** TOTP and recovery codes, per account. */
  secondFactor: SecondFactorThrottle;
  registration: RegistrationThrottle;
  /** Link mails (verification, reset, email change), per account and per address. */
  mail: MailThrottle;
}

export function createThrottles(pool: pg.Pool, limits: Config['rateLimits'] & { mailsPerHour: number }, { logger }: { logger: Logger }): Throttles {
  const rateLimits = createRateLimits(pool, { logger });
  return {
    signIn: createSignInThrottle(rateLimits, limits),
    secondFactor: createSecondFactorThrottle(rateLimits, limits),
    registration: createRegistrationThrottle(rateLimits, limits),
    mail: createMailThrottle(rateLimits, limits),
  };
}
