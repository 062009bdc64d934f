import type { AccountService } from '../../account/account-service.js';
import { LEVEL } from '../authentication-levels.js';
import type { SecondFactorKind } from '../second-factor-kinds.js';
import { PasskeyRefusedError } from './errors.js';
import type { Passkeys } from './passkeys.js';

export const PASSKEY = 'passkey';

/**
 * A passkey after the password: the user's own credentials only, against the challenge the
 * second-factor page asked for in this interaction. Origin-bound, so the pair is phishing-resistant.
 */
export function passkeySecondFactor(passkeys: Pick<Passkeys, 'signIn'>, accounts: Pick<AccountService, 'findActive'>): SecondFactorKind {
  return {
    kind: PASSKEY,
    field: 'response',
    backup: false,
    level: LEVEL.phr,
    enrolled: (held) => held.passkeys > 0,
    async verify(userId, input, { interactionUid, ip }) {
      const user = await accounts.findActive(userId);
      if (!user) return null;
      try {
        return (await passkeys.signIn({ purpose: 'sign_in', interactionUid }, input, { ip }, user)).amr;
      } catch (error) {
        if (error instanceof PasskeyRefusedError) return null;
        throw error;
      }
    },
  };
}
