import { createKeyAdministration } from '../admin/key-administration.js';
import { createAuditLog } from '../audit/audit-log.js';
import { AppError } from '../errors.js';
import {
  DEFAULT_PUBLISH_FOR_SECONDS,
  DEFAULT_WATCH_INTERVAL_MS,
  signingKeysOf,
  type Rotation,
  type SigningKeys,
  type SigningKeySummary,
} from '../provider/keys/signing-keys.js';
import { didYouMean, parseOptions } from './arguments.js';
import { CliError, usageError, type CliContext, type Command } from './command.js';

const USAGE = [
  'keys list                                 signing keys: kid, algorithm, state and dates',
  `keys rotate [--publish-for <seconds>]     new signing keys, published now, signing after <seconds> (default ${DEFAULT_PUBLISH_FOR_SECONDS})`,
];

const SUBCOMMANDS = ['list', 'rotate'];

export const keysCommand: Command = {
  name: 'keys',
  usage: USAGE,

  parse(args) {
    const [subcommand, ...rest] = args;
    switch (subcommand) {
      case 'list':
        if (rest.length > 0) throw usageError(`keys list takes no arguments, got: ${rest.join(' ')}`, USAGE);
        return async (context) => printList(await signingKeys(context).list(), context);
      case 'rotate': {
        const publishFor = parsePublishFor(rest);
        return async (context) => {
          try {
            const rotation = await createKeyAdministration({ signingKeys: signingKeys(context), audit: createAuditLog(context) }).rotate({ publishFor }, 'admin');
            printRotation(rotation, publishFor, context);
          } catch (error) {
            if (error instanceof AppError) throw new CliError(error.message, { cause: error });
            throw error;
          }
        };
      }
      case undefined:
        throw usageError('keys needs a subcommand', USAGE);
      default:
        throw usageError(`unknown subcommand: keys ${subcommand}.${didYouMean(subcommand, SUBCOMMANDS)}`, USAGE);
    }
  },
};

function signingKeys({ config, prisma, logger }: CliContext): SigningKeys {
  return signingKeysOf(config, prisma, { logger });
}

function parsePublishFor(args: string[]): number {
  const { values, positionals } = parseOptions(args, { 'publish-for': { type: 'string' } }, 'keys rotate', USAGE);
  if (positionals.length > 0) throw usageError(`keys rotate takes options only, got: ${positionals.join(' ')}`, USAGE);
  const value = values['publish-for'];
  if (value === undefined) return DEFAULT_PUBLISH_FOR_SECONDS;
  if (!/^\d+$/.test(value)) throw usageError(`--publish-for needs a whole number of seconds, not "${value}"`, USAGE);
  return Number(value);
}

function printList(keys: SigningKeySummary[], { print }: CliContext): void {
  if (keys.length === 0) {
    print('No signing keys yet: Latch creates them when it first starts.');
    return;
  }
  const rows = [
    ['KID', 'ALG', 'STATE', 'CREATED', 'SIGNS FROM', 'SIGNS UNTIL', 'LEAVES JWKS'],
    ...keys.map((key) => [key.kid, key.alg, key.state, date(key.createdAt), date(key.activatesAt), date(key.retiresAt), date(key.expiresAt)]),
  ];
  const width = (column: number) => Math.max(...rows.map((row) => row[column]?.length ?? 0));
  for (const row of rows) print(row.map((cell, column) => cell.padEnd(width(column))).join('  ').trimEnd());
}

function printRotation(rotation: Rotation, publishFor: number, { print }: CliContext): void {
  const activates = date(rotation.activatesAt);
  print(`New keys published now, sign from ${activates}:`);
  for (const key of rotation.created) print(`  ${key.alg.padEnd(6)} ${key.kid}`);
  print(`Old keys sign until ${activates}, leave the JWKS at ${date(rotation.expiresAt)}:`);
  for (const key of rotation.retired) print(`  ${key.alg.padEnd(6)} ${key.kid}`);
  print(`Every running Latch picks this up within ${DEFAULT_WATCH_INTERVAL_MS / 1000} seconds; nothing needs restarting.`);
  if (publishFor < DEFAULT_PUBLISH_FOR_SECONDS) {
    print(`Note: relying parties cache the JWKS, often for hours; one that has not fetched it again by ${activates} rejects new tokens until it does.`);
  }
}

function date(value: Date | null): string {
  return value ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}
