import { createInterface } from 'node:readline/promises';
import type { ParseArgsConfig } from 'node:util';
import type { User, UserStatus } from '../account/user.js';
import type { UserChanges, UserDetails } from '../admin/user-administration.js';
import { presentUser } from '../api/user-representation.js';
import { AppError } from '../errors.js';
import { cliAdministration } from './administration.js';
import { didYouMean, parseOptions } from './arguments.js';
import { CliError, usageError, type Action, type CliContext, type Command } from './command.js';

/** One verb of `latch users`: the import and export verbs join the list below with one line each. */
export interface UsersSubcommand {
  name: string;
  /** Its line in `latch --help`. */
  usage: string;
  /** As Command.parse: every usage mistake is thrown here, before the database is opened. */
  parse(args: string[], usage: string[]): Action;
}

const STATUSES: readonly UserStatus[] = ['active', 'disabled', 'locked'];
const JSON_OPTION = { json: { type: 'boolean' } } as const satisfies ParseArgsConfig['options'];
/** What the admin actor is in the audit trail when the CLI acts. */
const ACTOR = 'admin';

const list: UsersSubcommand = {
  name: 'list',
  usage: 'users list [--query <text>] [--status active|disabled|locked] [--limit <n>] [--cursor <c>] [--json]   users by email or name, oldest first',
  parse(args, usage) {
    const { values } = exactly(args, { ...JSON_OPTION, query: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } }, 'list', 0, usage);
    const status = values.status === undefined ? undefined : statusOf(values.status, usage);
    const limit = values.limit === undefined ? undefined : wholeNumber(values.limit, '--limit', usage);
    return async (context) => {
      const page = await refused(() => cliAdministration(context).users.list({ query: values.query, status, limit, cursor: values.cursor }));
      if (values.json) return context.print(JSON.stringify({ users: page.items.map(presentUser), next_cursor: page.nextCursor ?? null }, null, 2));
      if (page.items.length === 0) return context.print('No users match.');
      table(context, ['ID', 'EMAIL', 'NAME', 'STATUS', 'VERIFIED', 'CREATED'], page.items.map((user) => [user.id, user.email, user.profile.name ?? '-', user.status, user.emailVerified ? 'yes' : 'no', date(user.createdAt)]));
      if (page.nextCursor) context.print(`More: latch users list ... --cursor ${page.nextCursor}`);
    };
  },
};

const show: UsersSubcommand = {
  name: 'show',
  usage: "users show <id|email> [--json]                    a user's profile, email state, status, sessions and grants",
  parse(args, usage) {
    const { values, positionals: [who = ''] } = exactly(args, JSON_OPTION, 'show', 1, usage);
    return async (context) => {
      const { users } = cliAdministration(context);
      const details = await refused(async () => users.show((await users.find(who)).id));
      if (values.json) return context.print(JSON.stringify(presentDetails(details), null, 2));
      printDetails(details, context);
    };
  },
};

const create: UsersSubcommand = {
  name: 'create',
  usage: 'users create --email <email> [--name <name>] [--verified] [--json]   the password is asked for (or read from stdin); none: a reset link is sent',
  parse(args, usage) {
    if (args.some((arg) => arg === '--password' || arg.startsWith('--password='))) {
      throw usageError('users create takes no --password: a password on the command line stays in the shell history and the process list. Type it when asked, or pipe it on stdin (printf %s "$PASSWORD" | latch users create ...)', usage);
    }
    const { values } = exactly(args, { ...JSON_OPTION, email: { type: 'string' }, name: { type: 'string' }, verified: { type: 'boolean' } }, 'create', 0, usage);
    const { email } = values;
    if (email === undefined) throw usageError('users create needs --email <email>', usage);
    return async (context) => {
      const password = await readPassword();
      const { user, link } = await refused(() => cliAdministration(context).users.create({ email, password, emailVerified: values.verified ?? false, profile: { name: values.name } }, ACTOR));
      if (values.json) return context.print(JSON.stringify({ user: presentUser(user), ...(link === undefined ? {} : { password_reset_link: link }) }, null, 2));
      context.print(`Created user ${user.id} (${user.email}).`);
      if (password !== undefined) return;
      if (link === undefined) context.print('No password given: a link to choose one has been mailed to the address.');
      else context.print(`No password given, and Latch sends no mail here: hand this link to the user (shown once):\n  ${link}`);
    };
  },
};

const update: UsersSubcommand = {
  name: 'update',
  usage: 'users update <id|email> [--email <email>] [--name <name>] [--verified|--unverified] [--status active|disabled|locked] [--json]',
  parse(args, usage) {
    const options = { ...JSON_OPTION, email: { type: 'string' }, name: { type: 'string' }, verified: { type: 'boolean' }, unverified: { type: 'boolean' }, status: { type: 'string' } } as const;
    const { values, positionals: [who = ''] } = exactly(args, options, 'update', 1, usage);
    if (values.verified && values.unverified) throw usageError('users update takes --verified or --unverified, not both', usage);
    const changes: UserChanges = {
      email: values.email,
      emailVerified: values.verified ? true : values.unverified ? false : undefined,
      status: values.status === undefined ? undefined : statusOf(values.status, usage),
      profile: values.name === undefined ? undefined : { name: values.name },
    };
    if (Object.values(changes).every((value) => value === undefined)) throw usageError('users update needs something to change', usage);
    return changing(who, values.json, (users, id) => users.update(id, changes, ACTOR), 'Updated');
  },
};

const disable: UsersSubcommand = {
  name: 'disable',
  usage: 'users disable <id|email> [--json]                 no more sign-ins; every session and token ends now',
  parse(args, usage) {
    const { values, positionals: [who = ''] } = exactly(args, JSON_OPTION, 'disable', 1, usage);
    return changing(who, values.json, (users, id) => users.disable(id, ACTOR), 'Disabled');
  },
};

const enable: UsersSubcommand = {
  name: 'enable',
  usage: 'users enable <id|email> [--json]                  the user may sign in again',
  parse(args, usage) {
    const { values, positionals: [who = ''] } = exactly(args, JSON_OPTION, 'enable', 1, usage);
    return changing(who, values.json, (users, id) => users.enable(id, ACTOR), 'Enabled');
  },
};

const remove: UsersSubcommand = {
  name: 'delete',
  usage: 'users delete <id|email> [--yes]                   the user and every session, grant and token (asks first, unless --yes)',
  parse(args, usage) {
    const { values, positionals: [who = ''] } = exactly(args, { yes: { type: 'boolean' } }, 'delete', 1, usage);
    return async (context) => {
      const { users } = cliAdministration(context);
      const user = await refused(() => users.find(who));
      if (!values.yes) await confirm(`Delete ${user.email} (${user.id}) and everything of it? Type the email address to confirm: `, user.email);
      await refused(() => users.delete(user.id, ACTOR));
      context.print(`Deleted user ${user.id} (${user.email}), with every session, grant and token of it.`);
    };
  },
};

/** The verbs of `latch users`, in the order --help lists them. */
export const USERS_SUBCOMMANDS: UsersSubcommand[] = [list, show, create, update, disable, enable, remove];

export const usersCommand: Command = {
  name: 'users',
  get usage() {
    return USERS_SUBCOMMANDS.map((subcommand) => subcommand.usage);
  },

  parse(args) {
    const [name, ...rest] = args;
    const { usage } = usersCommand;
    if (name === undefined) throw usageError('users needs a subcommand', usage);
    const subcommand = USERS_SUBCOMMANDS.find((candidate) => candidate.name === name);
    if (!subcommand) throw usageError(`unknown subcommand: users ${name}.${didYouMean(name, USERS_SUBCOMMANDS.map((known) => known.name))}`, usage);
    return subcommand.parse(rest, usage);
  },
};

/** Options as declared, and exactly `count` positional arguments (a user's id or email). */
function exactly<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, form: string, count: number, usage: string[]) {
  const parsed = parseOptions(args, options, `users ${form}`, usage);
  if (parsed.positionals.length !== count) {
    throw usageError(`users ${form} takes ${count === 0 ? 'options only' : "one user's id or email"}, got: ${parsed.positionals.join(' ') || 'none'}`, usage);
  }
  return parsed;
}

/** An action that changes one user and reports it. */
function changing(who: string, json: boolean | undefined, change: (users: ReturnType<typeof cliAdministration>['users'], id: string) => Promise<User>, done: string): Action {
  return async (context) => {
    const { users } = cliAdministration(context);
    const user = await refused(async () => change(users, (await users.find(who)).id));
    if (json) return context.print(JSON.stringify(presentUser(user), null, 2));
    context.print(`${done} user ${user.id} (${user.email}): status ${user.status}, email ${user.emailVerified ? 'verified' : 'not verified'}.`);
  };
}

function statusOf(value: string, usage: string[]): UserStatus {
  const status = STATUSES.find((known) => known === value);
  if (!status) throw usageError(`--status must be ${STATUSES.join(', ')}, not "${value}".${didYouMean(value, STATUSES)}`, usage);
  return status;
}

function wholeNumber(value: string, option: string, usage: string[]): number {
  if (!/^\d+$/.test(value)) throw usageError(`${option} needs a whole number, not "${value}"`, usage);
  return Number(value);
}

/** Refusals of the service (no such user, a taken address, a weak password) are the admin's to fix: no stack. */
async function refused<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const issues = 'issues' in error && Array.isArray(error.issues) ? error.issues.map((issue: { field: string; message: string }) => `\n  ${issue.field || 'input'}: ${issue.message}`).join('') : '';
    throw new CliError(`${error.message}${issues}`, { cause: error });
  }
}

/**
 * The password, never from argv: asked for without echo on a terminal, else read from stdin (one
 * trailing newline dropped). Nothing at all means no password: the user is sent a reset link.
 */
async function readPassword(): Promise<string | undefined> {
  const password = process.stdin.isTTY ? await askHidden('Password (leave empty to send a link to choose one): ') : await readStdin();
  return password === '' ? undefined : password;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** A line typed in raw mode, so that the terminal shows nothing of it. */
function askHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return finish(() => resolve(typed));
        if (character === '\u0003' || character === '\u0004') return finish(() => reject(new CliError('Cancelled: no user was created.')));
        typed = character === '\u007f' || character === '\b' ? typed.slice(0, -1) : typed + character;
      }
    };
    stdin.on('data', onData);
  });
}

/** On a terminal, the admin types `expected`; elsewhere --yes is the only confirmation. */
async function confirm(question: string, expected: string): Promise<void> {
  if (!process.stdin.isTTY) throw new CliError('Not a terminal, so nobody can confirm: add --yes to delete without asking.');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(question);
    if (answer.trim().toLowerCase() !== expected.toLowerCase()) throw new CliError('Not confirmed: nothing was deleted.');
  } finally {
    prompt.close();
  }
}

function presentDetails({ user, sessions, grants }: UserDetails) {
  return { ...presentUser(user), sessions, grants };
}

function printDetails({ user, sessions, grants }: UserDetails, { print }: CliContext): void {
  const claims = Object.entries(presentUser(user)).filter(([claim, value]) => value !== null && !['id', 'email', 'email_verified', 'status', 'created_at', 'updated_at', 'phone_number_verified'].includes(claim));
  print(`ID:        ${user.id}`);
  print(`Email:     ${user.email} (${user.emailVerified ? 'verified' : 'not verified'})`);
  print(`Status:    ${user.status}`);
  print(`Created:   ${date(user.createdAt)}`);
  print(`Sessions:  ${sessions}`);
  print(`Grants:    ${grants}`);
  for (const [claim, value] of claims) print(`${`${claim}:`.padEnd(10)} ${String(value)}`);
}

function table({ print }: CliContext, header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const width = (column: number) => Math.max(...all.map((row) => row[column]?.length ?? 0));
  for (const row of all) print(row.map((cell, column) => cell.padEnd(width(column))).join('  ').trimEnd());
}

function date(value: Date): string {
  return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
