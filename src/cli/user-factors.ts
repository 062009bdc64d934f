import { SECURITY_PATH } from '../account-page/account-client.js';
import { createAuditLog } from '../audit/audit-log.js';
import { createFactorService, type FactorService } from '../factors/factor-service.js';
import { createMail } from '../mail/mail.js';
import { createThrottles } from '../throttle/throttles.js';
import { cliAdministration } from './administration.js';
import { usageError, type CliContext } from './command.js';
import { ACTOR, exactly, refused, type UsersSubcommand } from './users.js';

/** The factor service as the server builds it, on the CLI's connection (mail only queued). */
function cliFactors({ config, prisma, pool, logger }: CliContext): FactorService {
  const now = () => new Date();
  return createFactorService({
    prisma,
    keyEncryptionKey: config.secrets.keyEncryptionKey,
    productName: config.mail.productName,
    throttle: createThrottles(pool, { ...config.rateLimits, mailsPerHour: config.accounts.mailsPerHour }, { logger }).secondFactor,
    mailer: createMail(config, prisma, { logger, now, options: { worker: false } }).mailer,
    audit: createAuditLog({ prisma, logger, now }),
    securityPageUrl: `${config.issuer}${SECURITY_PATH}`,
    now,
  });
}

/** `users factors reset`: for a user who lost every factor and every recovery code. */
export const factors: UsersSubcommand = {
  name: 'factors',
  usage: 'users factors reset <id|email>                    removes every second factor and recovery code: the next sign-in is with the password alone',
  parse(args, usage) {
    const [verb, ...rest] = args;
    if (verb !== 'reset') throw usageError(`users factors takes reset, not ${verb === undefined ? 'nothing' : `"${verb}"`}`, usage);
    const { positionals: [who = ''] } = exactly(rest, {}, 'factors reset', 1, usage);
    return async (context) => {
      const user = await refused(() => cliAdministration(context).users.find(who));
      const { removed } = await cliFactors(context).reset(user.id, ACTOR);
      context.print(`Reset the second factors of ${user.email} (${user.id}): ${removed} removed, recovery codes voided. The next sign-in asks for the password alone${context.config.accounts.mfaRequired === 'off' ? '' : ', then has a new factor set up (MFA_REQUIRED)'}.`);
    };
  },
};
