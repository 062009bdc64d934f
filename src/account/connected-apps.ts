import type { AuditLog } from '../audit/audit-log.js';
import type { OidcStore } from '../provider/oidc-store.js';
import { GrantNotFoundError } from './errors.js';

/** One grant the user gave a client: what it may do, and since when. */
export interface ConnectedApp {
  grantId: string;
  clientId: string;
  /** The name the client registered; undefined when it has none (or was deleted). */
  clientName?: string;
  /** OpenID Connect scopes, and those of Latch's API and other resource servers, each once. */
  scopes: string[];
  /** Resource indicators (RFC 8707) the grant covers. */
  resources: string[];
  grantedAt: Date;
  expiresAt?: Date;
}

export interface ConnectedApps {
  /** The user's grants, most recent first. */
  list(userId: string): Promise<ConnectedApp[]>;
  /** Revokes one of the user's grants and every code and token of it; GrantNotFoundError for another user's or none. */
  revoke(userId: string, grantId: string): Promise<void>;
  /** Revokes every grant the user gave this client; GrantNotFoundError when there is none. */
  revokeClient(userId: string, clientId: string): Promise<void>;
  /** Revokes every grant of the user but `exceptGrantId`; returns how many. `actor`: an administrator doing it, not the user. */
  revokeAll(userId: string, options?: { exceptGrantId?: string; actor?: string }): Promise<number>;
}

export interface ConnectedAppsDependencies {
  store: Pick<OidcStore, 'listByAccountId' | 'find' | 'revokeGrant'>;
  /** The registered name of a client, if it has one. */
  clientName: (clientId: string) => Promise<string | undefined>;
  /** Clients that are part of Latch itself (its account page): not apps the user connected. */
  hiddenClientIds: ReadonlySet<string>;
  audit: AuditLog;
  now: () => Date;
}

/** The part of oidc-provider's Grant payload read here. */
interface GrantPayload {
  jti?: string;
  accountId?: string;
  clientId?: string;
  iat?: number;
  exp?: number;
  openid?: { scope?: string };
  resources?: Record<string, string>;
}

const words = (scope: string | undefined) => (scope ?? '').split(' ').filter(Boolean);
const fromEpoch = (seconds: number | undefined) => (seconds === undefined ? undefined : new Date(seconds * 1000));

/**
 * The apps a user let in, read from oidc-provider's grants, and their revocation: the one code
 * path for the account page and the REST API. Revoking a grant deletes its codes and tokens with
 * it, as oidc-provider's own revocation does, so the app's next refresh gets invalid_grant.
 */
export function createConnectedApps({ store, clientName, hiddenClientIds, audit, now }: ConnectedAppsDependencies): ConnectedApps {
  const grantsOf = async (userId: string): Promise<GrantPayload[]> =>
    ((await store.listByAccountId('Grant', userId, now())) as GrantPayload[]).filter(
      (grant) => grant.jti !== undefined && grant.clientId !== undefined && !hiddenClientIds.has(grant.clientId),
    );

  const revokeGrant = async (userId: string, grant: GrantPayload, actor?: string) => {
    const grantId = grant.jti as string;
    const revoked = await store.revokeGrant(grantId);
    await audit.record('grant.revoked', { userId, actor, clientId: grant.clientId, grantId, revoked, via: actor === undefined ? 'account' : 'admin' });
  };

  return {
    async list(userId) {
      const grants = await grantsOf(userId);
      const apps = await Promise.all(
        grants.map(async (grant): Promise<ConnectedApp> => {
          const resources = grant.resources ?? {};
          const clientId = grant.clientId as string;
          return {
            grantId: grant.jti as string,
            clientId,
            clientName: await clientName(clientId),
            scopes: [...new Set([...words(grant.openid?.scope), ...Object.values(resources).flatMap(words)])],
            resources: Object.keys(resources),
            grantedAt: fromEpoch(grant.iat) ?? new Date(0),
            expiresAt: fromEpoch(grant.exp),
          };
        }),
      );
      return apps.sort((a, b) => b.grantedAt.getTime() - a.grantedAt.getTime());
    },

    async revoke(userId, grantId) {
      const grant = (await store.find('Grant', grantId, now())) as GrantPayload | undefined;
      if (!grant || grant.accountId !== userId || (grant.clientId !== undefined && hiddenClientIds.has(grant.clientId))) throw new GrantNotFoundError();
      await revokeGrant(userId, { ...grant, jti: grantId });
    },

    async revokeClient(userId, clientId) {
      const grants = (await grantsOf(userId)).filter((grant) => grant.clientId === clientId);
      if (grants.length === 0) throw new GrantNotFoundError();
      for (const grant of grants) await revokeGrant(userId, grant);
    },

    async revokeAll(userId, { exceptGrantId, actor } = {}) {
      const grants = (await grantsOf(userId)).filter((grant) => grant.jti !== exceptGrantId);
      for (const grant of grants) await revokeGrant(userId, grant, actor);
      return grants.length;
    },
  };
}
