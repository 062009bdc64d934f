import type { KoaContextWithOIDC } from 'oidc-provider';
import { permissionsOf, rolesForResource, type Entitlements, type HeldRole, type Subject } from './entitlements.js';

/**
 * The subject's roles as one token issuance sees them. oidc-provider asks twice per issuance, for
 * the resource server's scopes and for the token's extra claims; both are served by one lookup,
 * kept on the request, so the token path pays one statement.
 */
export interface IssuanceEntitlements {
  /** The permissions on `resource` the subject's roles grant. */
  permissions(ctx: object, subject: Subject, resource: string): Promise<Set<string>>;
  /** The subject's roles that hold a permission on `resource` (RFC 9068 §2.2.3.1). */
  roles(ctx: object, subject: Subject, resource: string): Promise<string[]>;
}

export function issuanceEntitlements(entitlements: Entitlements): IssuanceEntitlements {
  const perRequest = new WeakMap<object, Map<string, Promise<HeldRole[]>>>();
  const held = (ctx: object, subject: Subject, resource: string) => {
    let lookups = perRequest.get(ctx);
    if (!lookups) perRequest.set(ctx, (lookups = new Map()));
    const key = `${subject.kind}\n${subject.id}\n${resource}`;
    let roles = lookups.get(key);
    if (!roles) lookups.set(key, (roles = entitlements.rolesOf(subject, resource)));
    return roles;
  };
  return {
    permissions: async (ctx, subject, resource) => permissionsOf(await held(ctx, subject, resource)),
    roles: async (ctx, subject, resource) => rolesForResource(await held(ctx, subject, resource)),
  };
}

/**
 * Whom the token endpoint is issuing to: the client itself for client credentials, otherwise the
 * account of the code or refresh token. Undefined outside the token endpoint (the authorization
 * request, PAR), where no token is issued: there a client may ask for any permission, and the
 * grant records what was asked; the subject's roles filter it at every issuance from that grant.
 */
export function subjectOfIssuance(ctx: KoaContextWithOIDC): Subject | undefined | null {
  const { oidc } = ctx;
  if (oidc.route !== 'token') return undefined;
  if (oidc.params?.grant_type === 'client_credentials') return oidc.client ? { kind: 'client', id: oidc.client.clientId } : null;
  const accountId = oidc.entities.Account?.accountId ?? oidc.entities.AuthorizationCode?.accountId ?? oidc.entities.RefreshToken?.accountId;
  // null: a token is being issued but to no one known; it gets no permission.
  return accountId === undefined ? null : { kind: 'user', id: accountId };
}
