import { auditCommand } from './cli/audit.js';
import { didYouMean } from './cli/arguments.js';
import { clientsCommand } from './cli/clients.js';
import { CliError, type Command } from './cli/command.js';
import { humanLogStream } from './cli/human-log.js';
import { keysCommand } from './cli/keys.js';
import { usersCommand } from './cli/users.js';
import { ConfigError, loadConfig } from './config.js';
import { EmbeddedPostgresError } from './db/embedded-postgres.js';
import { openDatabase } from './db/open-database.js';
import { createConnectionPool, createPrismaClient } from './db/prisma.js';
import { createLogger } from './logger.js';

/**
 * The admin CLI: `npm run latch -- <command> <subcommand> [options]` (`node dist/cli.js ...` in the
 * image). It reads the same environment as the server, on DATABASE_URL or, without it, the
 * embedded PostgreSQL (the running Latch's, when one runs on the same data directory). Output is
 * for the admin on stdout; the log goes to stderr, in words, and only warnings unless LOG_LEVEL
 * asks for more. Expected failures (usage, configuration, a refused operation) print their message
 * only, with exit code 1; usage mistakes are told before anything is opened.
 */

const COMMANDS: Command[] = [usersCommand, clientsCommand, keysCommand, auditCommand];
const HELP = new Set(['--help', '-h', 'help']);

/** A CLI needs a connection or two, not the server's pool. */
const POOL_MAX = 2;

function usage(): string {
  return [
    'usage: latch <command> <subcommand> [options]',
    '',
    ...COMMANDS.flatMap((command) => command.usage.map((line) => `  latch ${line}`)),
    '',
    'Configured by the environment, as the server is (DATABASE_URL, LATCH_KEY_ENCRYPTION_KEY, ISSUER, ...).',
  ].join('\n');
}

class UsageError extends CliError {}

async function main(argv: string[]): Promise<void> {
  const [name, ...args] = argv;
  if (name !== undefined && HELP.has(name)) return print(usage());
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    throw new UsageError(name === undefined ? 'Give a command.' : `Unknown command: ${name}.${didYouMean(name, COMMANDS.map((known) => known.name))}`);
  }
  if (args.some((arg) => HELP.has(arg))) return print(command.usage.map((line) => `latch ${line}`).join('\n'));
  const action = command.parse(args);

  // The server's info lines (keys created, a client registered) are noise ahead of the CLI's report.
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const logger = createLogger(config.logLevel, humanLogStream(process.stderr));
  const database = await openDatabase(config, logger);
  const pool = createConnectionPool(database.url, { poolMax: POOL_MAX });
  const prisma = createPrismaClient(pool);
  try {
    await action({ config, prisma, pool, logger, print });
  } catch (error) {
    logger.debug({ err: error }, `latch ${name} failed`);
    throw error;
  } finally {
    await prisma.$disconnect();
    if (!pool.ended) await pool.end();
    await database.stop();
  }
}

function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The message to show for a failure: expected ones as they are, anything else briefly (LOG_LEVEL=debug logs it whole). */
function describe(error: unknown): string {
  if (error instanceof UsageError) return `${error.message}\n${usage()}`;
  if (error instanceof CliError || error instanceof ConfigError || error instanceof EmbeddedPostgresError) return error.message;
  if ((error as { code?: unknown }).code === 'P2021') return 'The database has no Latch schema yet: run `npm run db:migrate` (or start Latch once) first.';
  // One line, the reason only: Prisma names the call it failed in ("Invalid `prisma.x.findMany()`
  // invocation:"), which means nothing to an admin; the details are for LOG_LEVEL=debug.
  const message = (error instanceof Error ? error.message : String(error)).replace(/^\s*Invalid `prisma\.[^`]*` invocation:?/, '');
  return `latch failed: ${message.split('\n').map((line) => line.trim()).filter(Boolean).join(' ')}`;
}

main(process.argv.slice(2)).then(
  () => exitAfterWriting(process.stdout, '', 0),
  (error: unknown) => exitAfterWriting(process.stderr, `${describe(error).trimEnd()}\n`, 1),
);

/** Explicitly: a driver or timer left behind must not keep the process alive. process.exit drops output still queued on a pipe. */
function exitAfterWriting(stream: NodeJS.WriteStream, text: string, code: number): void {
  stream.write(text, () => process.exit(code));
}
