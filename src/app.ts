import Koa from 'koa';
import { createAccountService, type AccountService } from './account/account-service.js';
import { loadCommonPasswords } from './account/common-passwords.js';
import { createConnectedApps } from './account/connected-apps.js';
import { createPasswordChange } from './account/password-change.js';
import { createPasswordHasher } from './account/password-hasher.js';
import { createPasswordPolicy } from './account/password-policy.js';
import { createPrismaSessionDeviceRepository } from './account/session-device-repository.js';
import { createSignInSessions } from './account/sign-in-sessions.js';
import { createUserImport } from './account/transfer/user-import.js';
import { createPrismaUserRepository } from './account/user-repository.js';
import { createAdministration, type Administration } from './admin/administration.js';
import { adminOf, createBearerAuth } from './api/bearer-auth.js';
import { ADMIN_API_PATH } from './api/admin/router.js';
import { createApiRouter } from './api/router.js';
import { auditOrigin } from './audit/audit-context.js';
import { createAuthorization, type Authorization } from './authorization/authorization.js';
import { AUTHORIZATION_CHANNEL } from './authorization/channel.js';
import { createEntitlements } from './authorization/entitlements.js';
import { createResourceDirectory } from './authorization/resource-directory.js';
import { ADMIN_ROLE, seedAuthorization } from './authorization/seed.js';
import { createAuditLog, type AuditLog } from './audit/audit-log.js';
import type { Config } from './config.js';
import { defaultMigrationsDir, listMigrationNames } from './db/migrations.js';
import { listenForInvalidation } from './db/invalidation.js';
import { createConnectionPool, createPrismaClient } from './db/prisma.js';
import { migrationsApplied } from './db/readiness.js';
import { healthEndpoints } from './http/health.js';
import { problemResponses } from './http/problem.js';
import { requestContext } from './http/request-context.js';
import { scopeTo } from './http/scope.js';
import { securityHeaders } from './http/security-headers.js';
import { closeAfterUnreadBody } from './http/unread-body.js';
import { createCsrf } from './interactions/csrf.js';
import { errorPages, noSuchPage } from './interactions/error-pages.js';
import { createInteractions } from './interactions/interactions.js';
import { ASSETS_PATH, createPasskeyAssets } from './factors/passkeys/browser-assets.js';
import { createPrismaPasskeyStore } from './factors/passkeys/passkey-store.js';
import { createPasskeys, type Passkeys } from './factors/passkeys/passkeys.js';
import { passkeySecondFactor } from './factors/passkeys/passkey-second-factor.js';
import { requiredLevelOf } from './factors/authentication-requirement.js';
import { createFactorService, type FactorService } from './factors/factor-service.js';
import { mfaRequiredFor } from './factors/mfa-policy.js';
import { builtInKinds } from './factors/second-factor-kinds.js';
import type { Logger } from './logger.js';
import { devMailbox } from './mail/dev-mail.js';
import { createMail, type Mail, type MailOptions } from './mail/mail.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { createAdapter } from './provider/adapter.js';
import { INTERACTION_PATH } from './provider/configuration.js';
import { startExpiredPurge } from './provider/expiry-purge.js';
import { DEFAULT_WATCH_INTERVAL_MS, signingKeysOf, type SigningKeys } from './provider/keys/signing-keys.js';
import { CLIENT_CHANNEL, createOidcStore, type OidcStore } from './provider/oidc-store.js';
import { createProviderHost, type ProviderHost } from './provider/provider-host.js';
import { publicMetadataCaching } from './provider/public-metadata-caching.js';
import { signingKeysLoaded } from './provider/readiness.js';
import { createTokenIssuance, type TokenIssuance } from './provider/token-issuance.js';
import { createSessionSightings } from './provider/session-sightings.js';
import { ACCOUNT_CLIENT_ID, ACCOUNT_PATH, ensureAccountClient, SECURITY_PATH } from './account-page/account-client.js';
import { createAccountPageSurface } from './account-page/surface.js';
import { CONSOLE_CLIENT_ID, CONSOLE_PATH, ensureConsoleClient } from './console/console-client.js';
import { createConsoleSurface } from './console/console-surface.js';
import { createThrottles } from './throttle/throttles.js';
import { createPrismaAccountTokens } from './self-service/account-tokens.js';
import { createSelfServicePages } from './self-service/pages.js';
import { SELF_SERVICE_PATH } from './self-service/paths.js';
import { createSelfService, type SelfService } from './self-service/self-service.js';

export interface Latch {
  /** The public listener's app. */
  app: Koa;
  /**
   * With ADMIN_PORT set, the admin surface (the admin API) for a listener of its own, and `app`
   * answers 404 there; undefined: `app` serves it too.
   */
  adminApp?: Koa;
  accounts: AccountService;
  selfService: SelfService;
  /** The outbox and its worker. */
  mail: Mail;
  audit: AuditLog;
  passkeys: Passkeys;
  /** Second factors: TOTP and recovery codes. */
  factors: FactorService;
  /** Roles, resource servers and role assignments. */
  authorization: Authorization;
  provider: ProviderHost;
  oidcStore: OidcStore;
  signingKeys: SigningKeys;
  /** What administrators do, through the admin API and the CLI alike. */
  admin: Administration;
  /** Served by main.ts on its own port. */
  metrics: Metrics;
  /** Tokens issued by hour and grant type, for the console's overview; tests flush it rather than wait. */
  tokenIssuance: Pick<TokenIssuance, 'flush'>;
  /** Stops background work (storing the token counts still held) and releases the database pool; the HTTP server is the caller's to close first. */
  close(): Promise<void>;
}

export interface LatchOptions {
  databaseUrl: string;
  logger: Logger;
  /** The clock for token and key lifetimes; tests may move it. */
  now?: () => Date;
  /** How often signing keys are re-read, so a rotation reaches every process. */
  keyWatchIntervalMs?: number;
  /** Mail delivery: poll interval, retry policy, transport (tests make retries quick and may bring their own). */
  mail?: MailOptions;
}

const PURGE_INTERVAL_MS = 60_000;

/**
 * Wires Latch from its validated configuration and a database URL: repositories, then services,
 * then the HTTP surfaces. Everything is passed explicitly so tests build the very same app.
 */
export async function createLatch(config: Config, { databaseUrl, logger, now = () => new Date(), keyWatchIntervalMs = DEFAULT_WATCH_INTERVAL_MS, mail: mailOptions }: LatchOptions): Promise<Latch> {
  const metrics = createMetrics();
  const pool = createConnectionPool(databaseUrl, config.database);
  metrics.observePool(pool, config.database.poolMax);
  const prisma = createPrismaClient(pool);
  const audit = createAuditLog({ prisma, logger, now });
  const hasher = createPasswordHasher(config.argon2);
  const policy = createPasswordPolicy({ commonPasswords: loadCommonPasswords() });
  const accounts = createAccountService({ users: createPrismaUserRepository(prisma), hasher, policy, audit, logger });
  const mail = createMail(config, prisma, { logger, now, options: mailOptions });

  const signingKeys = signingKeysOf(config, prisma, { logger, now });
  await signingKeys.ensureKeys();
  const keyRing = await signingKeys.load();

  await seedAuthorization(prisma, config);
  const authorizationInvalidation = listenForInvalidation(pool, AUTHORIZATION_CHANNEL, logger);
  const tokenAuthorization = { directory: createResourceDirectory(pool, authorizationInvalidation), entitlements: createEntitlements(pool, authorizationInvalidation) };
  const authorization = createAuthorization({ prisma, audit, apiResource: config.oidc.apiResource });

  const clientInvalidation = listenForInvalidation(pool, CLIENT_CHANNEL, logger);
  const oidcStore = createOidcStore(pool, { clientInvalidation });
  const throttles = createThrottles(pool, { ...config.rateLimits, mailsPerHour: config.accounts.mailsPerHour }, { logger });
  const selfService = createSelfService({
    prisma,
    tokens: createPrismaAccountTokens(prisma),
    oidcStore,
    hasher,
    policy,
    mailer: mail.mailer,
    throttle: throttles.mail,
    audit,
    issuer: config.issuer,
    ttl: { emailVerification: config.accounts.emailVerificationTtl, passwordReset: config.accounts.passwordResetTtl },
    now,
    mailDelivered: mail.worker !== undefined,
  });
  await ensureAccountClient(oidcStore, config.issuer);
  // With ADMIN_PORT the console is served by the admin listener alone, like the admin API.
  const consoleUrl = config.admin?.url ?? config.issuer;
  await ensureConsoleClient(oidcStore, consoleUrl);
  // The account page's and the console's own clients are part of Latch, not apps the user connected.
  const hiddenClientIds = new Set([ACCOUNT_CLIENT_ID, CONSOLE_CLIENT_ID]);
  const clientName = async (clientId: string) => {
    const client = await provider.current().Client.find(clientId);
    return client?.clientName ?? undefined;
  };
  const connectedApps = createConnectedApps({ store: oidcStore, clientName, hiddenClientIds, audit, now });
  const sessions = createSignInSessions({ store: oidcStore, devices: createPrismaSessionDeviceRepository(prisma), hiddenClientIds, audit, now });
  const sightings = createSessionSightings({ sessions, logger, now });
  const admin = createAdministration({
    prisma,
    hasher,
    policy,
    oidcStore,
    sessions,
    connectedApps,
    selfService,
    signingKeys,
    validateClient: (metadata) => provider.current().Client.validate(metadata),
    authorization,
    audit,
    now,
  });
  const changePassword = createPasswordChange({ accounts, tokens: oidcStore, signInThrottle: throttles.signIn, audit });
  const passkeys = createPasskeys({
    store: createPrismaPasskeyStore(prisma),
    accounts,
    signInThrottle: throttles.signIn,
    audit,
    logger,
    issuer: config.issuer,
    productName: config.mail.productName,
    now,
  });
  const passkeyAssets = createPasskeyAssets();
  const factors = createFactorService({
    prisma,
    keyEncryptionKey: config.secrets.keyEncryptionKey,
    productName: config.mail.productName,
    throttle: throttles.secondFactor,
    mailer: mail.mailer,
    audit,
    securityPageUrl: `${config.issuer}${SECURITY_PATH}`,
    now,
  });
  const secondFactorKinds = [...builtInKinds(factors), passkeySecondFactor(passkeys, accounts)];
  // MFA_REQUIRED=admins: users holding the admin role now, read from the same assignments tokens are issued from.
  const isAdmin = async (userId: string) => (await tokenAuthorization.entitlements.rolesOf({ kind: 'user', id: userId }, undefined)).some((role) => role.name === ADMIN_ROLE);
  const requiredLevel = requiredLevelOf(mfaRequiredFor(config.accounts.mfaRequired, { isAdmin }));
  const interactions = createInteractions({
    config,
    throttles,
    accounts,
    passkeys,
    passkeyScripts: passkeyAssets.scripts,
    selfService,
    audit,
    provider: () => provider.current(),
    logger,
    metrics,
    factors,
    secondFactorKinds,
    requiredLevel,
  });
  const tokenIssuance = createTokenIssuance(pool, { logger, now });
  const provider = createProviderHost({
    config,
    adapter: createAdapter(oidcStore, { refreshTokenReuseGrace: config.oidc.refreshTokenReuseGrace, now }),
    accounts,
    pages: interactions.pages,
    requiredLevel,
    keyRing,
    logger,
    metrics,
    audit,
    tokenIssuance,
    observe: sightings.observe,
    authorization: tokenAuthorization,
    requestScope: (run) => oidcStore.withinRequest(run),
  });
  // The ring the provider signs with now; the REST API verifies access tokens against the same.
  let currentRing = keyRing;
  const keyWatch = signingKeys.watch({
    current: keyRing,
    intervalMs: keyWatchIntervalMs,
    onChange: (ring) => {
      provider.useKeyRing(ring);
      currentRing = ring;
    },
  });
  const purge = startExpiredPurge([{ name: 'OIDC payloads', purgeExpired: (at) => oidcStore.purgeExpired(at) }, { name: 'token counts', purgeExpired: (at) => tokenIssuance.purgeExpired(at) }], { intervalMs: PURGE_INTERVAL_MS, logger, now });

  // Behind N trusted proxies, only the last N X-Forwarded-For entries are theirs; the rest is whatever the client sent.
  const koa = () => new Koa({ proxy: config.http.trustedProxies > 0, maxIpsCount: config.http.trustedProxies, keys: config.secrets.cookieKeys });
  const app = koa();
  // Koa's default error listener prints stacks to stderr; ours are logged where they are handled.
  app.silent = true;
  const common = [requestContext(logger, metrics), auditOrigin(), securityHeaders(config), closeAfterUnreadBody()];
  for (const middleware of common) app.use(middleware);
  app.use(publicMetadataCaching(() => provider.current()));
  app.use(healthEndpoints([migrationsApplied(prisma, await listMigrationNames(defaultMigrationsDir)), signingKeysLoaded(provider)]));
  const bearer = createBearerAuth({
    issuer: config.issuer,
    audience: config.oidc.apiResource,
    publicJwks: () => currentRing.publicJwks,
    keyEncryptionKey: config.secrets.keyEncryptionKey,
    provider: () => provider.current(),
    accounts,
    entitlements: tokenAuthorization.entitlements,
    now,
  });
  const api = createApiRouter({ accounts, selfService, bearer, tokens: oidcStore, changePassword, connectedApps, sessions, throttles, audit, authorization, admin, userImport: createUserImport({ pool, audit }), factors, logger });
  // What nothing answers below the API's error boundary: its own 404 problem.
  const notServed = [problemResponses(logger), async () => {}];
  const adminConsole = scopeTo(
    CONSOLE_PATH,
    createConsoleSurface({
      issuer: config.issuer,
      consoleUrl,
      keyEncryptionKey: config.secrets.keyEncryptionKey,
      sessionTtlSeconds: config.oidc.ttl.refreshToken,
      cacheViews: config.env !== 'development',
      admin,
      authorization,
      builtInClients: hiddenClientIds,
      adminGuard: bearer.requireAdmin(),
      actorOf: (ctx) => adminOf(ctx).actor,
      clientName,
      views: interactions.views,
      logger,
      now,
    }),
  );
  let adminApp: Koa | undefined;
  if (config.admin) {
    // The admin surface on its own listener only: here it is a path like any unknown one.
    app.use(scopeTo(ADMIN_API_PATH, notServed));
    adminApp = koa();
    adminApp.silent = true;
    for (const middleware of [...common, scopeTo(ADMIN_API_PATH, api), adminConsole, ...notServed]) adminApp.use(middleware);
  } else {
    app.use(adminConsole);
  }
  app.use(scopeTo('/api/v1', api));
  app.use(scopeTo(ASSETS_PATH, [passkeyAssets.middleware]));
  app.use(scopeTo(INTERACTION_PATH, interactions.routes));
  app.use(interactions.home);
  app.use(
    scopeTo(
      ACCOUNT_PATH,
      createAccountPageSurface({
        issuer: config.issuer,
        apiResource: config.oidc.apiResource,
        provider: () => provider.current(),
        views: interactions.views,
        accounts,
        emailChange: selfService,
        changePassword,
        connectedApps,
        sessions,
        sightings,
        passkeys,
        clientName,
        factors,
        logger,
        now,
      }),
    ),
  );
  const { views } = interactions;
  app.use(
    scopeTo(SELF_SERVICE_PATH, [
      errorPages({ views, logger }),
      ...createSelfServicePages({ selfService, views, csrf: createCsrf({ path: SELF_SERVICE_PATH }), provider: () => provider.current() }),
    ]),
  );
  // Development's mail catcher; in production the path is oidc-provider's, which knows no such page (404).
  if (config.env !== 'production') app.use(scopeTo('/dev/mail', devMailbox({ outbox: mail.outbox, views, from: config.mail.from })));
  // Last: oidc-provider answers everything else (discovery, JWKS, authorization, token, ...).
  app.use(noSuchPage(interactions.views));
  app.use(sightings.middleware());
  app.use(provider.middleware());

  return {
    app,
    adminApp,
    accounts,
    selfService,
    mail,
    audit,
    passkeys,
    factors,
    authorization,
    provider,
    oidcStore,
    signingKeys,
    admin,
    metrics,
    tokenIssuance,
    async close() {
      await keyWatch.stop();
      await purge.stop();
      // After the server drained: the tokens of its last requests are counted by now.
      await tokenIssuance.stop();
      await clientInvalidation.stop();
      await authorizationInvalidation.stop();
      await mail.worker?.stop();
      await prisma.$disconnect();
    },
  };
}
