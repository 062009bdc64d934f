import { normalizeEmail } from '../account/email.js';
import { createPrismaUserRepository } from '../account/user-repository.js';
import { createAuditLog, type AuditEvent } from '../audit/audit-log.js';
import { didYouMean, parseOptions } from './arguments.js';
import { CliError, usageError, type CliContext, type Command } from './command.js';

const DEFAULT_LIMIT = 100;
const USAGE = [
  `audit list [--user <email>] [--event <name>] [--since <date>|<n>m|<n>h|<n>d] [--limit <n>]   security events, newest first (default ${DEFAULT_LIMIT})`,
];

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export const auditCommand: Command = {
  name: 'audit',
  usage: USAGE,

  parse(args) {
    const [subcommand, ...rest] = args;
    if (subcommand === undefined) throw usageError('audit needs a subcommand', USAGE);
    if (subcommand !== 'list') throw usageError(`unknown subcommand: audit ${subcommand}.${didYouMean(subcommand, ['list'])}`, USAGE);
    const { user, event, since, limit } = parseListOptions(rest);
    return async (context) => {
      let subjectId: string | undefined;
      if (user !== undefined) {
        const found = await createPrismaUserRepository(context.prisma).findByEmail(normalizeEmail(user));
        if (!found) throw new CliError(`No account has the address ${user}.`);
        subjectId = found.id;
      }
      const events = await createAuditLog(context).list({ subjectId, event, since, limit });
      printEvents(events, context);
    };
  },
};

function parseListOptions(args: string[]): { user?: string; event?: string; since?: Date; limit: number } {
  const { values, positionals } = parseOptions(args, { user: { type: 'string' }, event: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' } }, 'audit list', USAGE);
  if (positionals.length > 0) throw usageError(`audit list takes options only, got: ${positionals.join(' ')}`, USAGE);
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw usageError('--limit needs a whole number between 1 and 10000', USAGE);
  return { user: values.user, event: values.event, since: values.since === undefined ? undefined : sinceOf(values.since), limit };
}

/** An ISO date or time, or a span back from now ("90m", "24h", "7d"). */
function sinceOf(value: string): Date {
  const span = /^(\d+)([mhd])$/.exec(value);
  if (span) return new Date(Date.now() - Number(span[1]) * (UNITS[span[2] as string] as number));
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) throw usageError(`--since needs a date (2026-12-01, 2026-12-01T09:00Z) or a span (90m, 24h, 7d), not "${value}"`, USAGE);
  return date;
}

function printEvents(events: AuditEvent[], { print }: CliContext): void {
  if (events.length === 0) {
    print('No audit events match.');
    return;
  }
  const rows = [
    ['TIME', 'EVENT', 'ACTOR', 'SUBJECT', 'IP', 'DETAILS'],
    ...events.map((event) => [event.at.toISOString(), event.event, event.actor ?? '-', event.subjectId ?? '-', event.ip ?? '-', details(event)]),
  ];
  const width = (column: number) => Math.max(...rows.map((row) => row[column]?.length ?? 0));
  for (const row of rows) print(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(width(column)))).join('  ').trimEnd());
}

function details({ details: fields, userAgent }: AuditEvent): string {
  const parts = Object.entries(fields).map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`);
  if (userAgent) parts.push(`user_agent="${userAgent}"`);
  return parts.join(' ');
}
