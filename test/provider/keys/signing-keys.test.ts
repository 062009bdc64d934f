import { createPrismaClient, type PrismaClient } from '../../../src/db/prisma.js';
import { decryptPrivateJwk, SigningKeyDecryptionError } from '../../../src/provider/keys/key-encryption.js';
import { createPrismaSigningKeyRepository, type SigningKeyRepository } from '../../../src/provider/keys/signing-key-repository.js';
import { createSigningKeys, NoActiveSigningKeyError, type SigningKeys } from '../../../src/provider/keys/signing-keys.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { query } from '../../support/sql.js';
import { capturingLogger, DAY, manualClock, privateMembersOf, randomKeyEncryptionKey, sleep } from './support.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (offset: number) => new Date(T0.getTime() + offset);
const tokenTtl = { accessToken: 600, idToken: 3600 };
// The longest token lifetime (the ID token's), plus the five minutes' margin.
const RETIRED_FOR = (3600 + 300) * 1000;

/**
 * Lingers between reading and writing under the lock, so that two racing processes would both
 * read an empty table, and both insert, if the lock did not make the second wait for the first.
 */
function lingering(repository: SigningKeyRepository): SigningKeyRepository {
  return {
    ...repository,
    exclusively: (work) =>
      repository.exclusively((writer) =>
        work({
          ...writer,
          findAll: async () => {
            const found = await writer.findAll();
            await sleep(200);
            return found;
          },
        }),
      ),
  };
}

interface Row {
  kid: string;
  alg: string;
  public_jwk: Record<string, unknown>;
  encrypted_private_jwk: string;
}

describe('signing keys', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  const keyEncryptionKey = randomKeyEncryptionKey();
  const clock = manualClock(T0);
  let keys: SigningKeys;

  const serviceOn = (client: PrismaClient, encryptionKey = keyEncryptionKey, repository = createPrismaSigningKeyRepository(client)) =>
    createSigningKeys({
      repository,
      keyEncryptionKey: encryptionKey,
      tokenTtl,
      publishFor: DAY / 1000,
      now: clock.now,
      logger: capturingLogger().logger,
    });
  const rows = () => query<Row>(database.url, 'select kid, alg, public_jwk, encrypted_private_jwk from signing_keys order by kid');
  const states = async () => Object.fromEntries((await keys.list()).map((key) => [key.kid, key.state]));

  beforeAll(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
    keys = serviceOn(prisma);
  });

  beforeEach(async () => {
    await query(database.url, 'delete from signing_keys');
    clock.set(T0);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  it('creates one key per algorithm, signing at once, on a first start and never again', async () => {
    const created = await keys.ensureKeys();

    expect(created.map((key) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(created.every((key) => key.state === 'active' && key.activatesAt.getTime() === T0.getTime())).toBe(true);
    expect(await keys.ensureKeys()).toEqual([]);
    clock.set(at(400 * DAY));
    expect(await keys.ensureKeys()).toEqual([]);
    expect(await keys.list()).toHaveLength(3);

    const ring = await keys.load();
    expect(Object.keys(ring.signers).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(ring.jwks.keys.map((jwk) => jwk.key_ops)).toEqual([undefined, undefined, undefined]);
  });

  it('creates the keys once when several processes start together on an empty database', async () => {
    const racing = await createTestDatabase();
    const clients = [createPrismaClient(racing.url, 2), createPrismaClient(racing.url, 2)];
    try {
      const created = await Promise.all(clients.map((client) => serviceOn(client, keyEncryptionKey, lingering(createPrismaSigningKeyRepository(client))).ensureKeys()));

      expect(created.flat().map((key) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
      const stored = await query<{ alg: string }>(racing.url, 'select alg from signing_keys order by alg');
      expect(stored.map((row) => row.alg)).toEqual(['ES256', 'EdDSA', 'RS256']);
    } finally {
      await Promise.all(clients.map((client) => client.$disconnect()));
      await racing.drop();
    }
  });

  it('stores the private half encrypted, and the public half without private members', async () => {
    await keys.ensureKeys();

    for (const row of await rows()) {
      const privateJwk = decryptPrivateJwk(row.encrypted_private_jwk, row.kid, keyEncryptionKey);
      expect(row.encrypted_private_jwk).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(row.encrypted_private_jwk).not.toContain(String(privateJwk.d));
      expect(privateMembersOf(row.public_jwk)).toEqual([]);
      expect(row.public_jwk).toMatchObject({ kid: row.kid, alg: row.alg, use: 'sig', kty: privateJwk.kty });
    }
  });

  it('lists kid, algorithm, state and dates, and nothing else', async () => {
    await keys.ensureKeys();

    for (const key of await keys.list()) {
      expect(Object.keys(key).sort()).toEqual(['activatesAt', 'alg', 'createdAt', 'expiresAt', 'kid', 'retiresAt', 'state']);
      expect(key).toMatchObject({ state: 'active', createdAt: T0, activatesAt: T0, retiresAt: null, expiresAt: null });
    }
  });

  it('rotates: new keys published now and signing after the publish window, old ones published until their tokens expired', async () => {
    const first = await keys.ensureKeys();
    const oldKids = first.map((key) => key.kid).sort();
    clock.set(at(10 * DAY));

    const rotation = await keys.rotate();

    expect(rotation.activatesAt).toEqual(at(11 * DAY));
    expect(rotation.expiresAt).toEqual(at(11 * DAY + RETIRED_FOR));
    expect(rotation.retired.map((key) => key.kid).sort()).toEqual(oldKids);
    const newKids = rotation.created.map((key) => key.kid).sort();
    const ringAt = async (offset: number) => {
      clock.set(at(offset));
      return keys.load();
    };
    const published = (ring: Awaited<ReturnType<SigningKeys['load']>>) => ring.publicJwks.keys.map((jwk) => jwk.kid).sort();
    const signing = (ring: Awaited<ReturnType<SigningKeys['load']>>) => Object.values(ring.signers).sort();

    const staged = await ringAt(10 * DAY);
    expect(signing(staged)).toEqual(oldKids);
    expect(published(staged)).toEqual([...oldKids, ...newKids].sort());
    expect(staged.nextChangeAt).toEqual(at(11 * DAY));
    expect(Object.values(await states()).sort()).toEqual(['active', 'active', 'active', 'staged', 'staged', 'staged']);

    const switched = await ringAt(11 * DAY);
    expect(signing(switched)).toEqual(newKids);
    expect(published(switched)).toEqual([...oldKids, ...newKids].sort());
    expect(switched.jwks.keys.filter((jwk) => oldKids.includes(jwk.kid ?? '')).map((jwk) => jwk.key_ops)).toEqual([['verify'], ['verify'], ['verify']]);
    expect(switched.nextChangeAt).toEqual(at(11 * DAY + RETIRED_FOR));

    const settled = await ringAt(11 * DAY + RETIRED_FOR);
    expect(published(settled)).toEqual(newKids);
    expect(settled.nextChangeAt).toBeNull();
    // Still in the table until a start or a rotation deletes them, and never decrypted again.
    expect(Object.values(await states()).filter((state) => state === 'expired')).toHaveLength(3);
    await query(database.url, `update signing_keys set encrypted_private_jwk = 'v1.garbage.garbage.garbage' where kid = any($1)`, [oldKids]);
    await expect(keys.load()).resolves.toBeDefined();

    expect(await keys.ensureKeys()).toEqual([]);
    expect((await rows()).map((row) => row.kid).sort()).toEqual(newKids);
  });

  it('takes the publish window from the caller, down to none in an emergency, superseding a pending rotation', async () => {
    const [original] = await keys.ensureKeys();
    const pending = await keys.rotate({ publishFor: 3600 });
    clock.set(at(60_000));

    const emergency = await keys.rotate({ publishFor: 0 });

    expect(emergency.activatesAt).toEqual(at(60_000));
    expect(emergency.retired).toHaveLength(6);
    const stateOf = await states();
    expect(emergency.created.map((key) => stateOf[key.kid])).toEqual(['active', 'active', 'active']);
    // The keys the first rotation staged never sign: they only stay published, briefly.
    expect(pending.created.map((key) => stateOf[key.kid])).toEqual(['retired', 'retired', 'retired']);
    expect(stateOf[original?.kid ?? '']).toBe('retired');
    expect(Object.values((await keys.load()).signers).sort()).toEqual(emergency.created.map((key) => key.kid).sort());
  });

  it('refuses to rotate before the first keys exist, and a publish window that is not whole seconds', async () => {
    await expect(keys.rotate()).rejects.toThrow(NoActiveSigningKeyError);
    await expect(keys.rotate()).rejects.toThrow('No active signing key for RS256, ES256, EdDSA');
    await keys.ensureKeys();
    await expect(keys.rotate({ publishFor: -1 })).rejects.toThrow(RangeError);
    await expect(keys.rotate({ publishFor: 1.5 })).rejects.toThrow(RangeError);
    expect(await keys.list()).toHaveLength(3);
  });

  it('refuses to load under another key encryption key, naming the key', async () => {
    await keys.ensureKeys();
    const [first] = await rows();

    const load = serviceOn(prisma, randomKeyEncryptionKey()).load();

    await expect(load).rejects.toBeInstanceOf(SigningKeyDecryptionError);
    await expect(load).rejects.toThrow(`LATCH_KEY_ENCRYPTION_KEY does not decrypt signing key ${first?.kid}`);
    // And what to do about it.
    await expect(load).rejects.toThrow(/Set LATCH_KEY_ENCRYPTION_KEY back to that one .* If it is lost, delete the rows of the signing_keys table/);
  });

  it('refuses a private key moved to another row', async () => {
    await keys.ensureKeys();
    const [first, second] = await rows();
    await query(database.url, 'update signing_keys set encrypted_private_jwk = $1 where kid = $2', [first?.encrypted_private_jwk, second?.kid]);

    await expect(keys.load()).rejects.toThrow(`LATCH_KEY_ENCRYPTION_KEY does not decrypt signing key ${second?.kid}`);
  });
});
