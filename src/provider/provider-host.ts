import mount from 'koa-mount';
import type { Middleware } from 'koa';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import { unstorableUrl } from '../http/input-guard.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { OidcStore } from './oidc-store.js';
import { RETRY_AFTER_SECONDS } from '../http/problem.js';
import { createAccessTokenReferences } from './access-token-references.js';
import { providerConfiguration, type ProviderDependencies } from './configuration.js';
import type { KeyRing } from './keys/key-ring.js';
import { observeProvider } from './provider-events.js';
import type { TokenIssuance } from './token-issuance.js';

export interface ProviderHost {
  /** The provider serving requests now. */
  current(): Provider;
  /** The signing keys it was built with. */
  keyRing(): KeyRing;
  /** Koa middleware: the JWT access token translation, then the current provider. */
  middleware(): Middleware;
  /** Rebuilds the provider around a new key ring; requests already in flight finish on the old one. */
  useKeyRing(ring: KeyRing): void;
}

/**
 * oidc-provider fixes its keys when it is constructed, and holds no other state (everything lives
 * in PostgreSQL), so a key rotation is served by building a new Provider and switching to it.
 */
export function createProviderHost({
  keyRing,
  logger,
  metrics,
  audit,
  tokenIssuance,
  observe,
  requestScope,
  ...dependencies
}: Omit<ProviderDependencies, 'jwks' | 'references'> & {
  keyRing: KeyRing;
  logger: Logger;
  metrics: Metrics;
  audit: AuditLog;
  /** Counts the tokens issued, for the console's overview. */
  tokenIssuance: Pick<TokenIssuance, 'count'>;
  /** Listens to the events of every provider built, the first and those after a key rotation. */
  observe?: (provider: Provider) => void;
  /** Wraps each request the provider serves, so that the store may share reads within it. */
  requestScope: OidcStore['withinRequest'];
}): ProviderHost {
  const { config } = dependencies;
  let ring = keyRing;
  const references = createAccessTokenReferences({
    issuer: config.issuer,
    keyEncryptionKey: config.secrets.keyEncryptionKey,
    publicJwks: () => ring.publicJwks,
  });

  const build = () => {
    const provider = new Provider(config.issuer, providerConfiguration({ ...dependencies, jwks: ring.jwks, references }));
    observeProvider(provider, { logger, metrics, audit, tokenIssuance });
    observe?.(provider);
    return { provider, serve: mount(provider) };
  };
  let built = build();

  /**
   * Answers as oidc-provider's own error handler would (a page for browsers, OAuth JSON otherwise),
   * for the requests refused before it: values in a URL are looked up before any handler of its could.
   */
  const refuse = async (ctx: Parameters<Middleware>[0], error: errors.OIDCProviderError) => {
    const out = { error: error.error, error_description: error.error_description };
    ctx.status = error.statusCode;
    if (ctx.accepts('json', 'html') === 'html') await dependencies.pages.renderError(ctx as KoaContextWithOIDC, out, error);
    else ctx.body = out;
  };

  return {
    current: () => built.provider,
    keyRing: () => ring,
    middleware() {
      const translate = references.middleware();
      return async (ctx, next) => {
        const unstorable = unstorableUrl(ctx);
        if (unstorable) return refuse(ctx, new errors.InvalidRequest(unstorable));
        await requestScope(() => translate(ctx, () => built.serve(ctx, next)));
        if (ctx.state.databaseUnavailable && ctx.status === 500) {
          // An outage is temporary: say so, in the OAuth error format where the endpoint speaks JSON.
          ctx.status = 503;
          ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
          if (ctx.response.is('json')) {
            ctx.body = { error: 'temporarily_unavailable', error_description: 'Latch cannot reach its database. Try again shortly.' };
          }
        }
      };
    },
    useKeyRing(next) {
      ring = next;
      built = build();
      logger.info({ signers: ring.signers }, 'signing keys changed: provider rebuilt');
    },
  };
}
