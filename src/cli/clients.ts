import type { ParseArgsConfig } from 'node:util';
import Provider from 'oidc-provider';
import { createAuditLog } from '../audit/audit-log.js';
import { nextAuthEnvironment, nextAuthProvider, NEXTAUTH_PROVIDER_ID } from '../admin/nextauth.js';
import { createRoleAssignments } from '../authorization/assignments.js';
import { createEntitlements } from '../authorization/entitlements.js';
import { createResourceDirectory } from '../authorization/resource-directory.js';
import { seedAuthorization } from '../authorization/seed.js';
import { AppError } from '../errors.js';
import { createAdapter } from '../provider/adapter.js';
import { createClientAdmin, type ClientAdmin, type ClientSummary, type NewClient } from '../provider/client-admin.js';
import { providerConfiguration, type ProviderPages } from '../provider/configuration.js';
import { createAccessTokenReferences } from '../provider/access-token-references.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../provider/keys/key-ring.js';
import { signingKeysOf } from '../provider/keys/signing-keys.js';
import { createOidcStore, type OidcStore } from '../provider/oidc-store.js';
import { LEVEL } from '../factors/authentication-levels.js';
import { didYouMean, parseOptions } from './arguments.js';
import { CliError, usageError, type CliContext, type Command } from './command.js';

const USAGE = [
  `clients create --redirect-uri <uri>... [--post-logout-redirect-uri <uri>]... [--name <name>] [--public] [--first-party] [--grant authorization_code|client_credentials]... [--id-token-alg ${SIGNING_ALGORITHMS.join('|')}] [--admin]`,
  'clients create --admin [--name <name>]   a machine client (client_credentials) with the admin role, for the admin API',
  'clients list                              every client: id, name, type, grants',
  "clients show <client-id>                  a client's metadata (never its secret)",
  'clients delete <client-id>                deletes it, and every grant and token issued to it',
  'clients rotate-secret <client-id>         a new secret; the old one stops working at once',
];

const GRANTS = ['authorization_code', 'client_credentials'] as const;

const CREATE_OPTIONS = {
  'redirect-uri': { type: 'string', multiple: true },
  'post-logout-redirect-uri': { type: 'string', multiple: true },
  name: { type: 'string' },
  public: { type: 'boolean' },
  'first-party': { type: 'boolean' },
  grant: { type: 'string', multiple: true },
  'id-token-alg': { type: 'string' },
  admin: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const SUBCOMMANDS = ['create', 'list', 'show', 'delete', 'rotate-secret'];

export const clientsCommand: Command = {
  name: 'clients',
  usage: USAGE,

  parse(args) {
    const [subcommand, ...rest] = args;
    switch (subcommand) {
      case 'create': {
        const client = parseNewClient(rest);
        return async (context) => printCreated(await refusalsAsCliErrors(() => clientAdmin(context).create(client)), context);
      }
      case 'list':
        positionals(rest, 0, 'list');
        return async (context) => printList(await refusalsAsCliErrors(() => clientAdmin(context).list()), context);
      case 'show': {
        const clientId = clientIdOf(rest, 'show');
        return async (context) => printClient(await refusalsAsCliErrors(() => clientAdmin(context).show(clientId)), context);
      }
      case 'delete': {
        const clientId = clientIdOf(rest, 'delete');
        return async (context) => {
          const { revoked } = await refusalsAsCliErrors(() => clientAdmin(context).delete(clientId));
          context.print(`Deleted client ${clientId}, and ${revoked} grant(s), code(s) and token(s) issued to it: none of them works any more.`);
          context.print("Users' sessions at Latch stay; they simply hold nothing for this client now.");
        };
      }
      case 'rotate-secret': {
        const clientId = clientIdOf(rest, 'rotate-secret');
        return async (context) => {
          const secret = await refusalsAsCliErrors(() => clientAdmin(context).rotateSecret(clientId));
          context.print(`New secret for ${clientId} (shown once; the old one no longer works):`);
          context.print(`  ${secret}`);
          context.print(`Tokens already issued stay valid. Update the app, e.g. AUTH_LATCH_SECRET=${secret}`);
        };
      }
      case undefined:
        throw usageError('clients needs a subcommand', USAGE);
      default:
        throw usageError(`unknown subcommand: clients ${subcommand}.${didYouMean(subcommand, SUBCOMMANDS)}`, USAGE);
    }
  },
};

function clientAdmin(context: CliContext): ClientAdmin {
  const store = createOidcStore(context.pool);
  const audit = createAuditLog({ prisma: context.prisma, logger: context.logger });
  let provider: Promise<Provider> | undefined;
  return createClientAdmin({
    store,
    validate: async (metadata) => (await (provider ??= validatingProvider(context, store))).Client.validate(metadata),
    now: () => new Date(),
    audit,
    assignments: createRoleAssignments({ prisma: context.prisma, audit }),
  });
}

/** Refusals of the service (no such client, metadata the provider rejects) are the admin's to fix: no stack. */
async function refusalsAsCliErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof AppError) throw new CliError(error.message, { cause: error });
    throw error;
  }
}

/**
 * A provider with the server's configuration and signing keys (which decide the algorithms a
 * client may ask for), so that a client is validated precisely as every Latch process will load
 * it. It never serves a request: it finds no account and renders no page.
 */
export async function validatingProvider({ config, prisma, pool, logger }: CliContext, store: OidcStore): Promise<Provider> {
  const now = () => new Date();
  const signingKeys = signingKeysOf(config, prisma, { logger, now });
  // What a first start does: on a database no Latch has run on yet there are no keys, nor the admin role.
  await signingKeys.ensureKeys();
  await seedAuthorization(prisma, config);
  const ring = await signingKeys.load();
  const configuration = providerConfiguration({
    config,
    adapter: createAdapter(store, { refreshTokenReuseGrace: config.oidc.refreshTokenReuseGrace, now }),
    accounts: { findActive: async () => null },
    jwks: ring.jwks,
    references: createAccessTokenReferences({ issuer: config.issuer, keyEncryptionKey: config.secrets.keyEncryptionKey, publicJwks: () => ring.publicJwks }),
    pages: SERVES_NO_PAGES,
    requiredLevel: SIGNS_NO_ONE_IN,
    // Validation reads no resource server (an invalidation that never listens would bypass any cache).
    authorization: { directory: createResourceDirectory(pool, NEVER_LISTENING), entitlements: createEntitlements(pool, NEVER_LISTENING) },
  });
  return new Provider(config.issuer, configuration);
}

const NEVER_LISTENING = { listening: false, subscribe: () => {}, stop: async () => {} };

const servesNoPages = async (): Promise<never> => {
  throw new Error('the admin CLI serves no pages');
};
const SIGNS_NO_ONE_IN = async () => LEVEL.pwd;
const SERVES_NO_PAGES: ProviderPages = { renderError: servesNoPages, logoutSource: servesNoPages, postLogoutSuccessSource: servesNoPages };

function parseNewClient(args: string[]): NewClient {
  const { values, positionals } = parseOptions(args, CREATE_OPTIONS, 'clients create', USAGE);
  if (positionals.length > 0) throw usageError(`clients create takes options only, got: ${positionals.join(' ')}`, USAGE);
  // An admin client is a machine client unless told otherwise.
  const grants = values.grant ?? [values.admin === true ? 'client_credentials' : 'authorization_code'];
  const unknownGrant = grants.find((grant) => !isGrant(grant));
  if (unknownGrant !== undefined) throw usageError(`--grant must be ${GRANTS.join(' or ')}, not "${unknownGrant}".${didYouMean(unknownGrant, GRANTS)}`, USAGE);
  const alg = values['id-token-alg'];
  if (alg !== undefined && !isSigningAlgorithm(alg)) throw usageError(`--id-token-alg must be ${SIGNING_ALGORITHMS.join(', ')}, not "${alg}"`, USAGE);
  // The one requirement known without the database: the provider would refuse it too, later.
  if (grants.includes('authorization_code') && !values['redirect-uri']) {
    throw usageError('clients create needs --redirect-uri <uri> (where the app receives the sign-in), unless it is a --grant client_credentials client', USAGE);
  }
  return {
    name: values.name,
    public: values.public ?? false,
    firstParty: values['first-party'] ?? false,
    redirectUris: values['redirect-uri'] ?? [],
    postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
    grants: [...new Set(grants.filter(isGrant))],
    idTokenAlg: alg,
    admin: values.admin ?? false,
  };
}

const isGrant = (value: string): value is NewClient['grants'][number] => (GRANTS as readonly string[]).includes(value);
const isSigningAlgorithm = (value: string): value is SigningAlgorithm => (SIGNING_ALGORITHMS as readonly string[]).includes(value);

/** Exactly `count` positional arguments and no option. */
function positionals(args: string[], count: number, form: string): string[] {
  const parsed = parseOptions(args, {}, `clients ${form}`, USAGE).positionals;
  if (parsed.length !== count) throw usageError(`clients ${form} takes ${count === 0 ? 'no arguments' : 'exactly one client id'}, got: ${args.join(' ') || 'none'}`, USAGE);
  return parsed;
}

function clientIdOf(args: string[], form: string): string {
  const [clientId = ''] = positionals(args, 1, form);
  return clientId;
}

function printCreated({ client, clientSecret }: { client: ClientSummary; clientSecret?: string }, { config, print }: CliContext): void {
  const { issuer } = config;
  print(`Created ${client.type} client ${client.clientId}${client.name ? ` (${client.name})` : ''}.`);
  print();
  print(`  Issuer:          ${issuer}`);
  print(`  Discovery:       ${issuer}/.well-known/openid-configuration`);
  print(`  Client ID:       ${client.clientId}`);
  if (clientSecret !== undefined) print(`  Client secret:   ${clientSecret}   (shown once: keep it now; rotate-secret makes a new one)`);
  print(`  Grant types:     ${client.grantTypes.join(', ')}`);
  if (client.admin) print(`  Admin:           may ask for the admin scope${client.grantTypes.includes('client_credentials') ? ' (holds the admin role: its own tokens carry it)' : ' (granted to users with the admin role)'}`);
  if (!client.grantTypes.includes('authorization_code')) return;

  print();
  print('For NextAuth, in .env.local:');
  print();
  for (const { line, note } of nextAuthEnvironment({ issuer, client, clientSecret })) print(`  ${line}${note ? `   (${note})` : ''}`);
  print();
  print('and in the providers of the NextAuth options (auth.ts):');
  print();
  for (const line of nextAuthProvider(client, clientSecret !== undefined)) print(`  ${line}`);
  print();
  print(`NextAuth calls back at <app>/api/auth/callback/${NEXTAUTH_PROVIDER_ID}; this client accepts:`);
  for (const uri of client.redirectUris) print(`  ${uri}${uri.endsWith(`/api/auth/callback/${NEXTAUTH_PROVIDER_ID}`) ? '' : '   (not NextAuth\'s callback form)'}`);
}

function printList(clients: ClientSummary[], { print }: CliContext): void {
  if (clients.length === 0) {
    print('No clients yet: create one with `latch clients create`.');
    return;
  }
  const rows = [
    ['CLIENT ID', 'NAME', 'TYPE', 'FIRST-PARTY', 'GRANTS', 'CREATED'],
    ...clients.map((client) => [
      client.clientId,
      client.name ?? '-',
      client.type,
      client.firstParty ? 'yes' : 'no',
      client.grantTypes.join(',') || '-',
      client.issuedAt ? date(client.issuedAt) : '-',
    ]),
  ];
  const width = (column: number) => Math.max(...rows.map((row) => row[column]?.length ?? 0));
  for (const row of rows) print(row.map((cell, column) => cell.padEnd(width(column))).join('  ').trimEnd());
}

function printClient(client: ClientSummary, { print }: CliContext): void {
  const list = (values: string[]) => (values.length > 0 ? values.join(' ') : '-');
  print(`Client ID:                  ${client.clientId}`);
  print(`Name:                       ${client.name ?? '-'}`);
  print(`Type:                       ${client.type}`);
  print(`First-party (no consent):   ${client.firstParty ? 'yes' : 'no'}`);
  print(`Grant types:                ${list(client.grantTypes)}`);
  print(`Redirect URIs:              ${list(client.redirectUris)}`);
  print(`Post-logout redirect URIs:  ${list(client.postLogoutRedirectUris)}`);
  print(`ID token algorithm:         ${client.idTokenAlg ?? 'default'}`);
  print(`May ask for admin:          ${client.admin ? 'yes' : 'no'}`);
  print(`Created:                    ${client.issuedAt ? date(client.issuedAt) : '-'}`);
}

function date(value: Date): string {
  return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
