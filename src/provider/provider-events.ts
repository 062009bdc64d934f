import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { isDatabaseUnavailable } from '../db/availability.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TokenIssuance } from './token-issuance.js';

declare module 'koa' {
  interface DefaultState {
    /** Set when oidc-provider failed because PostgreSQL could not be reached: the 500 becomes a 503. */
    databaseUnavailable?: boolean;
  }
}

interface TokenLike {
  kind?: string;
  clientId?: string;
  grantId?: string;
  accountId?: string;
}

/**
 * What oidc-provider reports, turned into Latch's logs and metrics: audit lines for security
 * relevant changes (clients, grants, revocations, sign-outs), token counts by grant type (for the
 * metrics and for the console's overview), and server errors, of which a database outage is only
 * marked for the 503 rewrite.
 */
export function observeProvider(
  provider: Provider,
  { logger, metrics, audit: auditLog, tokenIssuance }: { logger: Logger; metrics: Metrics; audit: AuditLog; tokenIssuance: Pick<TokenIssuance, 'count'> },
): void {
  // Events are emitted, not awaited: the trail records them on its own time, and never fails the request.
  const audit = (event: string, fields: Record<string, unknown>) => void auditLog.record(event, fields);

  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    if (isDatabaseUnavailable(error)) {
      ctx.state.databaseUnavailable = true;
      logger.warn({ reason: 'database unavailable', route: ctx.oidc?.route }, 'request refused');
    } else {
      logger.error({ err: error, route: ctx.oidc?.route }, 'oidc-provider server error');
    }
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = String(ctx.oidc.params?.grant_type ?? 'unknown');
    metrics.tokensIssued.inc({ grant_type: grantType });
    tokenIssuance.count(grantType);
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    audit('grant.revoked', { grantId, userId: ctx.oidc?.session?.accountId ?? ctx.oidc?.entities?.Grant?.accountId, clientId: ctx.oidc?.client?.clientId, route: ctx.oidc?.route });
  });
  const revoked = (token: TokenLike) => audit('token.revoked', { kind: token.kind, userId: token.accountId, clientId: token.clientId, grantId: token.grantId });
  provider.on('access_token.destroyed', revoked);
  provider.on('refresh_token.destroyed', revoked);
  provider.on('client_credentials.destroyed', revoked);
  const clientChanged = (name: string) => (ctx: KoaContextWithOIDC, client?: { clientId: string }) =>
    audit(name, { actor: 'dynamic registration', clientId: client?.clientId ?? ctx.oidc?.client?.clientId, via: 'dynamic registration' });
  provider.on('registration_create.success', clientChanged('client.created'));
  provider.on('registration_update.success', clientChanged('client.updated'));
  provider.on('registration_delete.success', clientChanged('client.deleted'));
  provider.on('end_session.success', (ctx: KoaContextWithOIDC) => {
    audit('session.ended', { userId: ctx.oidc?.session?.accountId, clientId: ctx.oidc?.client?.clientId });
  });
}
