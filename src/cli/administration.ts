import { loadCommonPasswords } from '../account/common-passwords.js';
import { createConnectedApps } from '../account/connected-apps.js';
import { createPasswordHasher } from '../account/password-hasher.js';
import { createPasswordPolicy } from '../account/password-policy.js';
import { createPrismaSessionDeviceRepository } from '../account/session-device-repository.js';
import { createSignInSessions } from '../account/sign-in-sessions.js';
import { ACCOUNT_CLIENT_ID } from '../account-page/account-client.js';
import { createAdministration, type Administration } from '../admin/administration.js';
import { createAuditLog } from '../audit/audit-log.js';
import { createRoleAssignments } from '../authorization/assignments.js';
import { createMail, deliversMail } from '../mail/mail.js';
import { signingKeysOf } from '../provider/keys/signing-keys.js';
import { createOidcStore } from '../provider/oidc-store.js';
import type Provider from 'oidc-provider';
import { createPrismaAccountTokens } from '../self-service/account-tokens.js';
import { createSelfService } from '../self-service/self-service.js';
import { createThrottles } from '../throttle/throttles.js';
import { validatingProvider } from './clients.js';
import type { CliContext } from './command.js';

/**
 * The administrative services as the server builds them (src/admin/administration.ts), on the
 * CLI's connection. Mail is only queued: the running Latch's workers deliver it.
 */
export function cliAdministration(context: CliContext): Administration {
  const { config, prisma, pool, logger } = context;
  const now = () => new Date();
  const audit = createAuditLog({ prisma, logger, now });
  const oidcStore = createOidcStore(pool);
  const hasher = createPasswordHasher(config.argon2);
  const policy = createPasswordPolicy({ commonPasswords: loadCommonPasswords() });
  const hiddenClientIds = new Set([ACCOUNT_CLIENT_ID]);
  const clientName = async (clientId: string) => ((await oidcStore.find('Client', clientId, now())) as { client_name?: string } | undefined)?.client_name;
  const mail = createMail(config, prisma, { logger, now, options: { worker: false } });
  const selfService = createSelfService({
    prisma,
    tokens: createPrismaAccountTokens(prisma),
    oidcStore,
    hasher,
    policy,
    mailer: mail.mailer,
    throttle: createThrottles(pool, { ...config.rateLimits, mailsPerHour: config.accounts.mailsPerHour }, { logger }).mail,
    audit,
    issuer: config.issuer,
    ttl: { emailVerification: config.accounts.emailVerificationTtl, passwordReset: config.accounts.passwordResetTtl },
    now,
    mailDelivered: deliversMail(config),
  });
  let provider: Promise<Provider> | undefined;
  return createAdministration({
    prisma,
    hasher,
    policy,
    oidcStore,
    sessions: createSignInSessions({ store: oidcStore, devices: createPrismaSessionDeviceRepository(prisma), hiddenClientIds, audit, now }),
    connectedApps: createConnectedApps({ store: oidcStore, clientName, hiddenClientIds, audit, now }),
    selfService,
    signingKeys: signingKeysOf(config, prisma, { logger, now }),
    // Built on first use only: most commands never validate a client.
    validateClient: async (metadata) => (await (provider ??= validatingProvider(context, oidcStore))).Client.validate(metadata),
    assignments: createRoleAssignments({ prisma, audit }),
    audit,
    now,
  });
}
