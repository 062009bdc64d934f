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

/** What a command does once the database is open. */
export type Action = (context: CliContext) => Promise<void>;

export interface Command {
  /** e.g. "keys". */
  name: string;
  /** One line per subcommand, for `latch --help`. */
  usage: string[];
  /**
   * Reads the arguments into the action to run. Every usage mistake is thrown from here, so that
   * it is told at once, before any database is opened (or an embedded one started).
   */
  parse(args: string[]): Action;
}

/** A usage mistake, with the command's usage under it. */
export function usageError(problem: string, usage: string[]): CliError {
  return new CliError(`${problem}\nusage:\n${usage.map((line) => `  latch ${line}`).join('\n')}`);
}
