import { CliError, type CliContext } from '../../../src/cli/command.js';
import { keysCommand } from '../../../src/cli/keys.js';
import { loadConfig } from '../../../src/config.js';
import { createConnectionPool, createPrismaClient, type PrismaClient } from '../../../src/db/prisma.js';
import { decryptPrivateJwk } from '../../../src/provider/keys/key-encryption.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { query } from '../../support/sql.js';
import { capturingLogger, randomKeyEncryptionKey } from './support.js';

const ISO_SECOND = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

describe('latch keys', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  let context: CliContext;
  let printed: string[];
  const keyEncryptionKey = randomKeyEncryptionKey();

  const run = async (...args: string[]) => {
    printed = [];
    await keysCommand.parse(args)(context);
    return printed;
  };
  const refusal = (...args: string[]) =>
    Promise.resolve()
      .then(() => keysCommand.parse(args)(context))
      .then(() => undefined, (error: unknown) => error);

  beforeAll(async () => {
    database = await createTestDatabase();
    const pool = createConnectionPool(database.url, { poolMax: 2 });
    prisma = createPrismaClient(pool);
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      LATCH_COOKIE_KEYS: 'a cookie key that is long enough to be accepted',
      LATCH_KEY_ENCRYPTION_KEY: keyEncryptionKey.toString('base64url'),
      ID_TOKEN_TTL: '3600',
      ACCESS_TOKEN_TTL: '600',
    });
    context = { config, prisma, pool, logger: capturingLogger().logger, print: (line = '') => printed.push(line) };
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  it('says when there are no keys yet, and refuses to rotate nothing', async () => {
    expect(await run('list')).toEqual(['No signing keys yet: Latch creates them when it first starts.']);

    const error = await refusal('rotate');
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toMatch(/^No active signing key for RS256, ES256, EdDSA: start Latch once/);
  });

  it('rotates, saying what happens when, and lists every key without private material', async () => {
    await query(
      database.url,
      // A key as a first start leaves it; the CLI only needs the rows.
      `insert into signing_keys (kid, alg, public_jwk, encrypted_private_jwk, activates_at) values
       ('rs', 'RS256', '{}', 'v1.x.x.x', now() - interval '1 day'),
       ('es', 'ES256', '{}', 'v1.x.x.x', now() - interval '1 day'),
       ('ed', 'EdDSA', '{}', 'v1.x.x.x', now() - interval '1 day')`,
    );
    const before = Date.now();

    const output = await run('rotate', '--publish-for', '7200');

    const signFrom = new Date(output[0]?.match(ISO_SECOND)?.[0] ?? '');
    expect(output[0]).toMatch(new RegExp(`^New keys published now, sign from ${ISO_SECOND.source}:$`));
    expect(Math.abs(signFrom.getTime() - (before + 7200_000))).toBeLessThan(5_000);
    expect(output.slice(1, 4).map((line) => line.trim().split(/\s+/)[0])).toEqual(['RS256', 'ES256', 'EdDSA']);
    // Retired after the ID token lifetime (3600 s) and the five minutes' margin.
    const leave = new Date(signFrom.getTime() + 3900_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(output[4]).toBe(`Old keys sign until ${output[0]?.match(ISO_SECOND)?.[0]}, leave the JWKS at ${leave}:`);
    expect(output.slice(5, 8).map((line) => line.trim()).sort()).toEqual(['ES256  es', 'EdDSA  ed', 'RS256  rs']);
    expect(output.slice(8)).toEqual([
      // The key watch interval, as the README says.
      'Every running Latch picks this up within 30 seconds; nothing needs restarting.',
      expect.stringMatching(/^Note: relying parties cache the JWKS/),
    ]);

    const listing = await run('list');
    expect(listing[0]).toMatch(/^KID\s+ALG\s+STATE\s+CREATED\s+SIGNS FROM\s+SIGNS UNTIL\s+LEAVES JWKS$/);
    expect(listing.slice(1).map((line) => line.split(/\s+/)[2]).sort()).toEqual(['active', 'active', 'active', 'staged', 'staged', 'staged']);
    const rows = await query<{ kid: string; encrypted_private_jwk: string }>(database.url, `select kid, encrypted_private_jwk from signing_keys where kid not in ('rs', 'es', 'ed')`);
    for (const { kid, encrypted_private_jwk } of rows) {
      const privateJwk = decryptPrivateJwk(encrypted_private_jwk, kid, keyEncryptionKey);
      expect(listing.join('\n')).toContain(kid);
      expect(listing.join('\n')).not.toContain(String(privateJwk.d));
    }
  });

  it.each([
    [[], 'keys needs a subcommand'],
    [['shred'], 'unknown subcommand: keys shred.\n'],
    [['rotat'], 'unknown subcommand: keys rotat. Did you mean rotate?'],
    [['rotate', '--publish-fo', '60'], 'keys rotate: unknown option --publish-fo. Did you mean --publish-for?'],
    [['list', '--all'], 'keys list takes no arguments'],
    [['rotate', '--publish-for'], "keys rotate: Option '--publish-for <value>' argument missing"],
    [['rotate', '--publish-for', 'soon'], '--publish-for needs a whole number of seconds, not "soon"'],
    [['rotate', '--publish-for=-5'], '--publish-for needs a whole number of seconds, not "-5"'],
    [['rotate', '--now'], 'keys rotate: unknown option --now.\n'],
    [['rotate', 'now'], 'keys rotate takes options only, got: now'],
  ])('refuses `keys %j` with usage', async (args, problem) => {
    const error = await refusal(...args);

    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toContain(problem);
    expect((error as CliError).message).toContain('latch keys rotate [--publish-for <seconds>]');
  });
});
