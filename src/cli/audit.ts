import { UserNotFoundError } from '../account/errors.js';
import type { AuditEvent } from '../audit/audit-log.js';
import { DEFAULT_AUDIT_PAGE_SIZE, MAX_AUDIT_PAGE_SIZE } from '../admin/audit-search.js';
import { AppError } from '../errors.js';
import { cliAdministration } from './administration.js';
import { didYouMean, parseOptions } from './arguments.js';
import { CliError, usageError, type CliContext, type Command } from './command.js';

const USAGE = [
  `audit list [--user <id|email>] [--event <name>] [--since <date>|<n>m|<n>h|<n>d] [--limit <n>] [--cursor <c>] [--json]   security events, newest first (default ${DEFAULT_AUDIT_PAGE_SIZE})`,
];

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

export const auditCommand: Command = {
  name: 'audit',
  usage: USAGE,

  parse(args) {
    const [subcommand, ...rest] = args;
    if (subcommand === undefined) throw usageError('audit needs a subcommand', USAGE);
    if (subcommand !== 'list') throw usageError(`unknown subcommand: audit ${subcommand}.${didYouMean(subcommand, ['list'])}`, USAGE);
    const { json, ...filter } = parseListOptions(rest);
    return async (context) => {
      let page;
      try {
        page = await cliAdministration(context).auditEvents(filter);
      } catch (error) {
        if (error instanceof UserNotFoundError) throw new CliError(`No account has the address ${filter.user}.`, { cause: error });
        if (error instanceof AppError) throw new CliError(error.message, { cause: error });
        throw error;
      }
      if (json) return context.print(JSON.stringify({ events: page.items, next_cursor: page.nextCursor ?? null }, null, 2));
      printEvents(page.items, context);
      if (page.nextCursor) context.print(`More: latch audit list ... --cursor ${page.nextCursor}`);
    };
  },
};

function parseListOptions(args: string[]): { user?: string; event?: string; since?: Date; limit: number; cursor?: string; json?: boolean } {
  const { values, positionals } = parseOptions(
    args,
    { user: { type: 'string' }, event: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' }, json: { type: 'boolean' } },
    'audit list',
    USAGE,
  );
  if (positionals.length > 0) throw usageError(`audit list takes options only, got: ${positionals.join(' ')}`, USAGE);
  const limit = values.limit === undefined ? DEFAULT_AUDIT_PAGE_SIZE : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE_SIZE) throw usageError(`--limit needs a whole number between 1 and ${MAX_AUDIT_PAGE_SIZE}`, USAGE);
  return { user: values.user, event: values.event, since: values.since === undefined ? undefined : sinceOf(values.since), limit, cursor: values.cursor, json: values.json };
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
