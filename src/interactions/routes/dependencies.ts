import type Provider from 'oidc-provider';
import type { AccountService } from '../../account/account-service.js';
import type { AuditLog } from '../../audit/audit-log.js';
import type { Passkeys } from '../../factors/passkeys/passkeys.js';
import type { RequiredLevel } from '../../factors/authentication-requirement.js';
import type { FactorService } from '../../factors/factor-service.js';
import type { SecondFactorKind } from '../../factors/second-factor-kinds.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { RegistrationThrottle } from '../../throttle/registration-throttle.js';
import type { SignInThrottle } from '../../throttle/sign-in-throttle.js';
import type { SelfService } from '../../self-service/self-service.js';
import type { Csrf } from '../csrf.js';
import type { Views } from '../views.js';

/** What the interaction steps are built from; each takes the part it uses. */
export interface StepDependencies {
  /** The provider serving now (it is rebuilt when signing keys rotate): read per request. */
  provider: () => Provider;
  accounts: Pick<AccountService, 'authenticateAlong' | 'register' | 'findActive'>;
  passkeys: Pick<Passkeys, 'signInOptions' | 'signIn'>;
  /** Mails verification links. */
  selfService: Pick<SelfService, 'sendVerification'>;
  views: Views;
  csrf: Csrf;
  signInThrottle: SignInThrottle;
  registrationThrottle: RegistrationThrottle;
  requireEmailVerification: boolean;
  /** Latch's own API's resource indicator, named in words on the consent page. */
  apiResource: string;
  audit: AuditLog;
  logger: Logger;
  metrics: Pick<Metrics, 'signIns'>;
  /** Setting up a second factor during a sign-in that needs one. */
  factors: Pick<FactorService, 'held' | 'heldColumn' | 'startTotp' | 'enrolment' | 'confirmTotp'>;
  /** The kinds of second factor a sign-in may ask for. */
  secondFactorKinds: SecondFactorKind[];
  requiredLevel: RequiredLevel;
}
