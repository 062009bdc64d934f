import Koa from 'koa';
import { createAccountService, type AccountService } from './account/account-service.js';
import { loadCommonPasswords } from './account/common-passwords.js';
import { createPasswordHasher } from './account/password-hasher.js';
import { createPasswordPolicy } from './account/password-policy.js';
import { createPrismaUserRepository } from './account/user-repository.js';
import { createApiRouter } from './api/router.js';
import type { Config } from './config.js';
import { createPrismaClient } from './db/prisma.js';
import { requestContext } from './http/request-context.js';
import { scopeTo } from './http/scope.js';
import { securityHeaders } from './http/security-headers.js';
import type { Logger } from './logger.js';

export interface Latch {
  app: Koa;
  accounts: AccountService;
  /** Releases the database pool; the HTTP server is the caller's to close first. */
  close(): Promise<void>;
}

/**
 * Wires Latch from its validated configuration and a database URL: repositories, then services,
 * then the HTTP surfaces. Everything is passed explicitly so tests build the very same app.
 */
export function createLatch(config: Config, { databaseUrl, logger }: { databaseUrl: string; logger: Logger }): Latch {
  const prisma = createPrismaClient(databaseUrl, config.database.poolMax);
  const users = createPrismaUserRepository(prisma);
  const accounts = createAccountService({
    users,
    hasher: createPasswordHasher(config.argon2),
    policy: createPasswordPolicy({ commonPasswords: loadCommonPasswords() }),
    logger,
  });

  const app = new Koa({ proxy: config.http.trustProxy, keys: config.cookieKeys });
  // Koa's default error listener prints stacks to stderr; ours are logged where they are handled.
  app.silent = true;
  app.use(requestContext(logger));
  app.use(securityHeaders());
  app.use(scopeTo('/api/v1', createApiRouter({ accounts, logger })));

  return { app, accounts, close: () => prisma.$disconnect() };
}
