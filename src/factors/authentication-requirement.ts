import { LEVEL, requestedLevel, type Level } from './authentication-levels.js';
import type { MfaRequiredFor } from './mfa-policy.js';

export interface SignInRequest {
  /** The authorization request's acr_values (a client's default_acr_values stand in when it sent none). */
  acrValues: unknown;
  /** The client's own policy, `latch_mfa_required`. */
  clientRequiresMfa: boolean;
  userId: string;
}

/** The level a sign-in must reach: the strictest of what the request asks, the client's policy and MFA_REQUIRED. */
export type RequiredLevel = (request: SignInRequest) => Promise<Level>;

export function requiredLevelOf(mfaRequiredFor: MfaRequiredFor): RequiredLevel {
  return async ({ acrValues, clientRequiresMfa, userId }) => {
    const policy = clientRequiresMfa || (await mfaRequiredFor(userId)) ? LEVEL.mfa : LEVEL.pwd;
    return Math.max(requestedLevel(acrValues), policy);
  };
}
