import { createAuditLog } from '../audit/audit-log.js';
import {
  DEFAULT_PUBLISH_FOR_SECONDS,
  NoActiveSigningKeyError,
  signingKeysOf,
  type Rotation,
  type SigningKeys,
  type SigningKeySummary,
} from '../provider/keys/signing-keys.js';
import { CliError, type CliContext, type Command } from './command.js';

const USAGE = [
  'keys list                                 signing keys: kid, algorithm, state and dates',
  `keys rotate [--publish-for <seconds>]     new signing keys, published now, signing after <seconds> (default ${DEFAULT_PUBLISH_FOR_SECONDS})`,
];

export const keysCommand: Command = {
  name: 'keys',
  usage: USAGE,

  async run(args, context) {
    const [subcommand, ...rest] = args;
    const keys = signingKeys(context);
    switch (subcommand) {
      case 'list':
        if (rest.length > 0) throw usageError(`keys list takes no arguments, got: ${rest.join(' ')}`);
        return printList(await keys.list(), context);
      case 'rotate': {
        const publishFor = parsePublishFor(rest);
        try {
          const rotation = await keys.rotate({ publishFor });
          await createAuditLog(context).record('key.rotated', { actor: 'admin', created: rotation.created.map(({ kid }) => kid), retired: rotation.retired.map(({ kid }) => kid), publishFor });
          return printRotation(rotation, publishFor, context);
        } catch (error) {
          if (error instanceof NoActiveSigningKeyError) throw new CliError(error.message, { cause: error });
          throw error;
        }
      }
      default:
        throw usageError(subcommand === undefined ? 'keys needs a subcommand' : `unknown subcommand: keys ${subcommand}`);
    }
  },
};

function signingKeys({ config, prisma, logger }: CliContext): SigningKeys {
  return signingKeysOf(config, prisma, { logger });
}

function parsePublishFor(args: string[]): number {
  if (args.length === 0) return DEFAULT_PUBLISH_FOR_SECONDS;
  const [first, second] = args;
  const value =
    args.length === 2 && first === '--publish-for' ? second : args.length === 1 && first?.startsWith('--publish-for=') ? first.slice('--publish-for='.length) : undefined;
  if (value === undefined) throw usageError(`unexpected arguments: keys rotate ${args.join(' ')}`);
  if (!/^\d+$/.test(value)) throw usageError(`--publish-for needs a whole number of seconds, not "${value}"`);
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
  print('Every running Latch picks this up within a minute; nothing needs restarting.');
  if (publishFor < DEFAULT_PUBLISH_FOR_SECONDS) {
    print(`Note: relying parties cache the JWKS, often for hours; one that has not fetched it again by ${activates} rejects new tokens until it does.`);
  }
}

function date(value: Date | null): string {
  return value ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

function usageError(problem: string): CliError {
  return new CliError(`${problem}\nusage:\n${USAGE.map((line) => `  latch ${line}`).join('\n')}`);
}
