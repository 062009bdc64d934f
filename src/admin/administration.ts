import type { ConnectedApps } from '../account/connected-apps.js';
import type { PasswordHasher } from '../account/password-hasher.js';
import type { PasswordPolicy } from '../account/password-policy.js';
import type { SignInSessions } from '../account/sign-in-sessions.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RoleAssignments } from '../authorization/assignments.js';
import type { PrismaClient } from '../db/prisma.js';
import { createClientAdmin, type ClientAdmin, type ClientAdminDependencies } from '../provider/client-admin.js';
import type { SigningKeys } from '../provider/keys/signing-keys.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { SelfService } from '../self-service/self-service.js';
import { createAuditSearch, type AuditSearch } from './audit-search.js';
import { createKeyAdministration, type KeyAdministration } from './key-administration.js';
import { createUserAdministration, type UserAdministration } from './user-administration.js';

/** Every administrative service: what the admin API, the CLI and the console call, and nothing else. */
export interface Administration {
  users: UserAdministration;
  clients: ClientAdmin;
  keys: KeyAdministration;
  auditEvents: AuditSearch;
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
  /** Role assignments: an admin machine client gets the admin role when it is made, and loses its roles when deleted. */
  assignments: RoleAssignments;
  audit: AuditLog;
  now: () => Date;
}

/** Built the same way by the composition root (src/app.ts) and by the CLI. */
export function createAdministration({ prisma, hasher, policy, oidcStore, sessions, connectedApps, selfService, signingKeys, validateClient, assignments, audit, now }: AdministrationDependencies): Administration {
  const users = createUserAdministration({ prisma, hasher, policy, tokens: oidcStore, sessions, connectedApps, passwordResets: selfService, audit });
  return {
    users,
    clients: createClientAdmin({ store: oidcStore, validate: validateClient, now, audit, assignments }),
    keys: createKeyAdministration({ signingKeys, audit }),
    auditEvents: createAuditSearch({ audit, users }),
  };
}
