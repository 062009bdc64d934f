import { createAuditLog } from '../audit/audit-log.js';
import { createAuthorization, type Authorization } from '../authorization/authorization.js';
import { seedAuthorization } from '../authorization/seed.js';
import { AppError } from '../errors.js';
import { CliError, type CliContext } from './command.js';

/** What the CLI does as: the audit log's actor for changes made from it. */
export const CLI_ACTOR = 'admin';

/**
 * The roles, resource servers and assignments services the admin API uses, on the CLI's database,
 * after what a first start does (the admin role, RESOURCE_SERVERS), so that the CLI works before
 * any Latch ever ran there. A refusal of theirs (unknown role, duplicate) is the admin's to fix: no stack.
 */
export async function withAuthorization<T>(context: CliContext, work: (authorization: Authorization) => Promise<T>): Promise<T> {
  const { prisma, config, logger } = context;
  await seedAuthorization(prisma, config);
  try {
    return await work(createAuthorization({ prisma, audit: createAuditLog({ prisma, logger }), apiResource: config.oidc.apiResource }));
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.message, { cause: error });
    throw error;
  }
}
