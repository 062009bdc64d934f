import { LEVEL, type Level } from './authentication-levels.js';
import type { HeldFactors } from './factor-repository.js';
import { TOTP, type FactorService } from './factor-service.js';

/**
 * A kind of second factor, as the sign-in step sees it: whether a user has it, and how to check
 * what the user posted. Each kind has its form in views/partials/second-factor/<kind>.ejs; a new
 * kind is one more entry and one more partial (passkeys: src/factors/passkeys/passkey-second-factor.ts).
 */
export interface SecondFactorKind {
  kind: string;
  /** The form field that carries its input. */
  field: string;
  /** Stands in for a lost factor (recovery codes): it does not by itself make a user "have a second factor". */
  backup: boolean;
  /** The level a password and this factor reach together. */
  level: Level;
  /** Whether the user has it, from what they hold of every kind (read once for all kinds). */
  enrolled(held: HeldFactors): boolean;
  /**
   * The RFC 8176 methods it proved, or null when the input is wrong. Throws TooManyRequestsError past the attempts allowed.
   * `attempt`: where it comes from (a passkey's challenge is bound to its interaction).
   */
  verify(userId: string, input: string, attempt: { interactionUid: string; ip: string }): Promise<string[] | null>;
}

export function builtInKinds(factors: FactorService): SecondFactorKind[] {
  return [
    { kind: TOTP, field: 'code', backup: false, level: LEVEL.mfa, enrolled: (held) => held.totp, verify: factors.verifyTotp },
    {
      kind: 'recovery_code',
      field: 'recovery_code',
      backup: true,
      level: LEVEL.mfa,
      enrolled: (held) => held.recoveryCodes > 0,
      verify: factors.verifyRecoveryCode,
    },
  ];
}
