import { resolve } from 'node:path';
import type { Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountService } from '../account/account-service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Passkeys } from '../factors/passkeys/passkeys.js';
import type { RequiredLevel } from '../factors/authentication-requirement.js';
import type { FactorService } from '../factors/factor-service.js';
import type { SecondFactorKind } from '../factors/second-factor-kinds.js';
import { projectRoot, type Config } from '../config.js';
import { refuseUnstorableUrl } from '../http/input-guard.js';
import type { PageScript } from '../http/page-scripts.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { SelfService } from '../self-service/self-service.js';
import { INTERACTION_PATH, type ProviderPages } from '../provider/configuration.js';
import type { Throttles } from '../throttle/throttles.js';
import { createCsrf } from './csrf.js';
import { errorPages } from './error-pages.js';
import { homePage } from './home-page.js';
import { createProviderPages } from './provider-pages.js';
import { createInteractionRouter } from './routes/router.js';
import { createViews, type Views } from './views.js';

export interface InteractionsDependencies {
  config: Config;
  throttles: Throttles;
  accounts: AccountService;
  passkeys: Passkeys;
  /** The scripts of the pages with passkey ceremonies (sign-in, its second step, security). */
  passkeyScripts: PageScript[];
  selfService: Pick<SelfService, 'sendVerification'>;
  audit: AuditLog;
  /** The provider serving now (it is rebuilt when signing keys rotate). */
  provider: () => Provider;
  logger: Logger;
  metrics: Pick<Metrics, 'signIns'>;
  factors: FactorService;
  secondFactorKinds: SecondFactorKind[];
  requiredLevel: RequiredLevel;
}

export interface Interactions {
  /** oidc-provider's own pages (errors, logout), rendered from views/. */
  pages: ProviderPages;
  /** Mounted under /interaction. */
  routes: Middleware[];
  /** The page at `/`. */
  home: Middleware;
  /** The pages of views/, for the other HTML surfaces. */
  views: Views;
}

/** Latch's HTML face: sign-in, registration and consent pages, and the pages oidc-provider renders. */
export function createInteractions({ config, throttles, accounts, passkeys, passkeyScripts, selfService, audit, provider, logger, metrics, factors, secondFactorKinds, requiredLevel }: InteractionsDependencies): Interactions {
  // Compiled templates are kept except in development, where edits should show without a restart.
  const views = createViews({ directory: resolve(projectRoot, 'views'), cache: config.env !== 'development', scripts: { login: passkeyScripts, security: passkeyScripts, 'second-factor': passkeyScripts } });

  const router = createInteractionRouter({
    provider,
    accounts,
    passkeys,
    selfService,
    audit,
    views,
    csrf: createCsrf({ path: INTERACTION_PATH }),
    signInThrottle: throttles.signIn,
    registrationThrottle: throttles.registration,
    requireEmailVerification: config.accounts.requireEmailVerification,
    apiResource: config.oidc.apiResource,
    logger,
    metrics,
    factors,
    secondFactorKinds,
    requiredLevel,
  });

  return {
    pages: createProviderPages(views),
    routes: [errorPages({ views, logger }), refuseUnstorableUrl(), ...router],
    home: homePage({ views, issuer: config.issuer }),
    views,
  };
}
