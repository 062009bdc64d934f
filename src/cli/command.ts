import type pg from 'pg';
import type { Config } from '../config.js';
import type { PrismaClient } from '../db/prisma.js';
import type { Logger } from '../logger.js';

/** What an admin command is handed: everything built from the validated configuration, nothing global. */
export interface CliContext {
  config: Config;
  prisma: PrismaClient;
  /** The pool under `prisma`, for the modules that speak SQL themselves (the oidc store). */
  pool: pg.Pool;
  logger: Logger;
  /** Writes a line for the admin to read (stdout). */
  print(line?: string): void;
}

/** Thrown for a usage mistake or a refused operation: printed as it is, exit code 1, no stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface Command {
  /** e.g. "keys". */
  name: string;
  /** One line per subcommand, for `latch --help`. */
  usage: string[];
  run(args: string[], context: CliContext): Promise<void>;
}
