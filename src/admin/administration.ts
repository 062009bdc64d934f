import type { ConnectedApps } from '../account/connected-apps.js';
import type { PasswordHasher } from '../account/password-hasher.js';
import type { PasswordPolicy } from '../account/password-policy.js';
import type { SignInSessions } from '../account/sign-in-sessions.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Authorization } from '../authorization/authorization.js';
import type { PrismaClient } from '../db/prisma.js';
import { createClientAdmin, type ClientAdmin, type ClientAdminDependencies } from '../provider/client-admin.js';
import type { SigningKeys } from '../provider/keys/signing-keys.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { SelfService } from '../self-service/self-service.js';
import { createAuditSearch, type AuditSearch } from './audit-search.js';
import { createKeyAdministration, type KeyAdministration } from './key-administration.js';
import { createOverview, type Overview } from './overview.js';
import { createUserAdministration, type UserAdministration } from './user-administration.js';

/** Every administrative service: what the admin API, the CLI and the console call, and nothing else. */
export interface Administration {
  users: UserAdministration;
  clients: ClientAdmin;
  keys: KeyAdministration;
  auditEvents: AuditSearch;
  /** The console's overview: users, sessions, sign-ins, tokens issued, keys. */
  overview: Overview;
  /** authz's role assignments, for `users roles` and the console. */
  roles: Authorization['assignments'];
}

export interface AdministrationDependencies {
  prisma: PrismaClient;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  oidcStore: OidcStore;
  sessions: SignInSessions;
  connectedApps: ConnectedApps;
  selfService: Pick<SelfService, 'issuePasswordReset'>;
  signingKeys: SigningKeys;
  /** The provider's own validation of client metadata, as for dynamic registration. */
  validateClient: ClientAdminDependencies['validate'];
  /** authz's roles and their assignments: users are created with roles, shown with them, found by them. */
  authorization: Pick<Authorization, 'roles' | 'assignments'>;
  audit: AuditLog;
  now: () => Date;
}

/** Built the same way by the composition root (src/app.ts) and by the CLI. */
export function createAdministration({ prisma, hasher, policy, oidcStore, sessions, connectedApps, selfService, signingKeys, validateClient, authorization, audit, now }: AdministrationDependencies): Administration {
  const users = createUserAdministration({ prisma, hasher, policy, tokens: oidcStore, sessions, connectedApps, passwordResets: selfService, authorization, audit });
  return {
    users,
    clients: createClientAdmin({ store: oidcStore, validate: validateClient, now, audit, assignments: authorization.assignments }),
    keys: createKeyAdministration({ signingKeys, audit }),
    auditEvents: createAuditSearch({ audit, users }),
    overview: createOverview({ prisma, signingKeys, now }),
    roles: authorization.assignments,
  };
}
