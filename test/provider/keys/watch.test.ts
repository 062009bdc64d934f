import { jest } from '@jest/globals';
import { createPrismaClient, type PrismaClient } from '../../../src/db/prisma.js';
import type { KeyRing } from '../../../src/provider/keys/key-ring.js';
import { createPrismaSigningKeyRepository, type SigningKeyRepository } from '../../../src/provider/keys/signing-key-repository.js';
import { createSigningKeys, type KeyWatch, type SigningKeys } from '../../../src/provider/keys/signing-keys.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { query } from '../../support/sql.js';
import { capturingLogger, DAY, manualClock, randomKeyEncryptionKey, sleep, waitFor } from './support.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (offset: number) => new Date(T0.getTime() + offset);
// Polls every 20 ms of real time; everything else is driven through the clock.
const INTERVAL_MS = 20;
// Long enough for several polls: time for a wrong call to show up.
const QUIET_MS = 150;

describe('watching the signing keys', () => {
  let database: TestDatabase;
  let prisma: PrismaClient;
  const clock = manualClock(T0);
  let log: ReturnType<typeof capturingLogger>;
  let databaseDown: boolean;
  let keys: SigningKeys;
  let watch: KeyWatch | undefined;
  let rings: KeyRing[];
  const keyEncryptionKey = randomKeyEncryptionKey();
  const tokenTtl = { accessToken: 600, idToken: 3600 };

  /** The real repository, unless the test has taken the database away. */
  const flaky = (repository: SigningKeyRepository): SigningKeyRepository => ({
    ...repository,
    findAll: () => (databaseDown ? Promise.reject(new Error('connection refused')) : repository.findAll()),
  });
  const serviceWith = (now: () => Date) =>
    createSigningKeys({
      repository: flaky(createPrismaSigningKeyRepository(prisma)),
      keyEncryptionKey,
      tokenTtl,
      publishFor: DAY / 1000,
      now,
      logger: log.logger,
    });
  const startWatching = async ({ onChange = (ring: KeyRing) => void rings.push(ring), intervalMs = INTERVAL_MS, failing = false } = {}) => {
    const current = await keys.load();
    databaseDown = failing;
    watch = keys.watch({ current, intervalMs, onChange });
  };
  const warnings = () => log.lines.filter((line) => line.level === 40);

  beforeAll(async () => {
    database = await createTestDatabase();
    prisma = createPrismaClient(database.url, 2);
  });

  beforeEach(async () => {
    await query(database.url, 'delete from signing_keys');
    clock.set(T0);
    log = capturingLogger();
    databaseDown = false;
    rings = [];
    keys = serviceWith(clock.now);
    await keys.ensureKeys();
  });

  afterEach(async () => {
    await watch?.stop();
    watch = undefined;
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });

  it('calls onChange once for each real change: a rotation, its activation, the old keys leaving', async () => {
    await startWatching();
    await sleep(QUIET_MS);
    expect(rings).toHaveLength(0);

    const rotation = await keys.rotate();
    await waitFor(() => rings.length === 1);
    expect(rings[0]?.publicJwks.keys).toHaveLength(6);
    clock.set(at(DAY - 1));
    await sleep(QUIET_MS);
    expect(rings).toHaveLength(1);

    clock.set(rotation.activatesAt);
    await waitFor(() => rings.length === 2);
    expect(Object.values(rings[1]?.signers ?? {}).sort()).toEqual(rotation.created.map((key) => key.kid).sort());
    await sleep(QUIET_MS);
    expect(rings).toHaveLength(2);

    clock.set(rotation.expiresAt);
    await waitFor(() => rings.length === 3);
    expect(rings[2]?.publicJwks.keys).toHaveLength(3);
    await sleep(QUIET_MS);
    expect(rings).toHaveLength(3);

    await watch?.stop();
    await keys.rotate();
    await sleep(QUIET_MS);
    expect(rings).toHaveLength(3);
  });

  it('wakes at the next scheduled change without waiting for the next poll', async () => {
    // A clock that runs, set 200 ms before the new keys activate.
    let offset = 0;
    const running = () => new Date(Date.now() + offset);
    keys = serviceWith(running);
    await query(database.url, 'delete from signing_keys');
    await keys.ensureKeys();
    const rotation = await keys.rotate();
    offset = rotation.activatesAt.getTime() - 200 - Date.now();

    const started = Date.now();
    await startWatching({ intervalMs: 60_000 });
    await waitFor(() => rings.length === 1, 2_000);

    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(rings[0]?.signers.RS256).toBe(rotation.created.find((key) => key.alg === 'RS256')?.kid);
  });

  it('never keeps the process alive', async () => {
    // Served from memory, so that no database driver timer is mistaken for the watch's own.
    const stored = await createPrismaSigningKeyRepository(prisma).findAll();
    const inMemory: SigningKeyRepository = { findAll: async () => stored, exclusively: () => Promise.reject(new Error('read only')) };
    keys = createSigningKeys({ repository: inMemory, keyEncryptionKey, tokenTtl, publishFor: DAY / 1000, now: clock.now, logger: log.logger });
    const setTimeoutSpy = jest.spyOn(globalThis, 'setTimeout');
    let watchTimers: (NodeJS.Timeout | undefined)[];
    try {
      await startWatching({ intervalMs: 60_000 });
      await sleep(QUIET_MS);
      // The first read at once, then the next poll; the test's own sleeps use other delays.
      const { calls, results } = setTimeoutSpy.mock;
      watchTimers = calls.flatMap(([, delay], index) => (delay === 0 || delay === 60_000 ? [results[index]?.value as NodeJS.Timeout | undefined] : []));
    } finally {
      setTimeoutSpy.mockRestore();
    }

    expect(watchTimers).toHaveLength(2);
    expect(watchTimers.map((timer) => timer?.hasRef())).toEqual([false, false]);
  });

  it('logs a failed read and retries until it succeeds', async () => {
    await startWatching({ failing: true });
    await keys.rotate();
    await waitFor(() => warnings().length >= 2);
    expect(rings).toHaveLength(0);
    expect(warnings()[0]).toMatchObject({ msg: `Could not refresh the signing keys; retrying in ${INTERVAL_MS} ms`, err: { message: 'connection refused' } });

    databaseDown = false;
    await waitFor(() => rings.length === 1);
    expect(rings[0]?.publicJwks.keys).toHaveLength(6);
  });

  it('retires keys on schedule from the last keys read while the database is unreachable', async () => {
    const rotation = await keys.rotate();
    await startWatching();
    await sleep(QUIET_MS);
    expect(rings).toHaveLength(0);

    databaseDown = true;
    clock.set(rotation.activatesAt);
    await waitFor(() => rings.length === 1);

    expect(Object.values(rings[0]?.signers ?? {}).sort()).toEqual(rotation.created.map((key) => key.kid).sort());
    expect(warnings()[0]).toMatchObject({ msg: 'Could not reload the signing keys; applying their schedule to the last ones read' });
  });

  it('offers a ring again when onChange failed, and not once it succeeded', async () => {
    let calls = 0;
    await startWatching({
      onChange: (ring) => {
        calls += 1;
        if (calls === 1) throw new Error('provider rebuild failed');
        rings.push(ring);
      },
    });

    await keys.rotate();
    await waitFor(() => rings.length === 1);
    await sleep(QUIET_MS);

    expect(calls).toBe(2);
    expect(warnings()[0]).toMatchObject({ err: { message: 'provider rebuild failed' } });
  });
});
