import { calculateJwkThumbprint, exportJWK, generateKeyPair, type GenerateKeyPairOptions } from 'jose';
import type { Logger } from '../../logger.js';
import { decryptPrivateJwk, encryptPrivateJwk } from './key-encryption.js';
import {
  buildKeyRing,
  currentSigners,
  keyStates,
  SIGNING_ALGORITHMS,
  type KeyRing,
  type KeyState,
  type SigningAlgorithm,
  type UnlockedSigningKey,
} from './key-ring.js';
import type { PrismaClient } from '../../db/prisma.js';
import { createPrismaSigningKeyRepository, type SigningKeyRecord, type SigningKeyRepository, type SigningKeyWriter } from './signing-key-repository.js';

/**
 * Suggested time between publishing new keys and signing with them: a day. Relying parties cache
 * the JWKS (jose for 10 minutes, .NET's OpenID Connect configuration manager for up to 12 hours),
 * and a token whose kid is missing from their copy fails until they fetch again.
 */
export const DEFAULT_PUBLISH_FOR_SECONDS = 86_400;

/** How often every replica reloads the keys: a rotation reaches all of them within this (the CLI and README say so). */
export const DEFAULT_WATCH_INTERVAL_MS = 30_000;

/**
 * Kept on top of the longest token lifetime before a retired key leaves the JWKS: relying parties
 * accept tokens a little past `exp` (clock leeway), and a replica may sign with the old key for a
 * moment after it retired, until its own timer fires.
 */
const EXPIRY_MARGIN_SECONDS = 300;

const GENERATION: Record<SigningAlgorithm, GenerateKeyPairOptions> = {
  RS256: { modulusLength: 2048 },
  ES256: { crv: 'P-256' },
  EdDSA: { crv: 'Ed25519' },
};

/** What an admin may see of a key: never its private half. */
export interface SigningKeySummary {
  kid: string;
  alg: string;
  state: KeyState;
  createdAt: Date;
  activatesAt: Date;
  retiresAt: Date | null;
  expiresAt: Date | null;
}

export interface Rotation {
  /** Published now, signing from `activatesAt`. */
  created: { kid: string; alg: string }[];
  activatesAt: Date;
  /** Signing until `activatesAt`, then published until `expiresAt`. */
  retired: { kid: string; alg: string }[];
  expiresAt: Date;
}

export interface KeyWatch {
  /** Cancels the timers; resolves once a reload under way has finished. */
  stop(): Promise<void>;
}

export interface WatchOptions {
  /** The ring the caller is using now: changes are judged against it. */
  current: KeyRing;
  intervalMs?: number;
  /** Called with each ring whose fingerprint differs from the last one accepted; a throw is logged and retried. */
  onChange(ring: KeyRing): void | Promise<void>;
}

export interface SigningKeys {
  /** Creates a key, signing at once, for every algorithm that has no signer (a first start), and deletes expired keys. */
  ensureKeys(): Promise<SigningKeySummary[]>;
  /** New keys for every algorithm, published now, signing after `publishFor` seconds, when the current signers retire. */
  rotate(options?: { publishFor?: number }): Promise<Rotation>;
  list(): Promise<SigningKeySummary[]>;
  load(): Promise<KeyRing>;
  /** Reloads every `intervalMs`, and at the ring's nextChangeAt, calling onChange when the ring changed. */
  watch(options: WatchOptions): KeyWatch;
}

export interface SigningKeysDependencies {
  repository: SigningKeyRepository;
  /** config.secrets.keyEncryptionKey. */
  keyEncryptionKey: Buffer;
  /** config.oidc.ttl: a retired key stays published for as long as the longest-lived token it signed. */
  tokenTtl: { accessToken: number; idToken: number };
  /** Seconds from publishing new keys to signing with them, when rotate() is not told: DEFAULT_PUBLISH_FOR_SECONDS suits most. */
  publishFor: number;
  now: () => Date;
  logger: Logger;
}

/** Thrown by rotate() when some algorithm has no key to retire: Latch creates the first keys when it starts. */
export class NoActiveSigningKeyError extends Error {
  override readonly name = 'NoActiveSigningKeyError';

  constructor(readonly algorithms: string[]) {
    super(`No active signing key for ${algorithms.join(', ')}: start Latch once, which creates the missing keys, then rotate`);
  }
}

export function createSigningKeys({ repository, keyEncryptionKey, tokenTtl, publishFor: defaultPublishFor, now, logger }: SigningKeysDependencies): SigningKeys {
  assertSeconds('publishFor', defaultPublishFor);
  const retiredFor = (Math.max(tokenTtl.accessToken, tokenTtl.idToken) + EXPIRY_MARGIN_SECONDS) * 1000;

  async function generateKey(alg: SigningAlgorithm, createdAt: Date, activatesAt: Date): Promise<SigningKeyRecord> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { ...GENERATION[alg], extractable: true });
    const publicJwk = await exportJWK(publicKey);
    // RFC 7638 thumbprint: derived from the key itself, so the same key can never appear under two kids.
    const kid = await calculateJwkThumbprint(publicJwk);
    return {
      kid,
      alg,
      publicJwk: { ...publicJwk, kid, alg, use: 'sig' },
      encryptedPrivateJwk: encryptPrivateJwk(await exportJWK(privateKey), kid, keyEncryptionKey),
      createdAt,
      activatesAt,
      retiresAt: null,
      expiresAt: null,
    };
  }

  const unsignedAlgorithms = (keys: SigningKeyRecord[], at: Date) => {
    const signers = currentSigners(keys, at);
    return SIGNING_ALGORITHMS.filter((alg) => !signers.has(alg));
  };

  const expiredKids = (keys: SigningKeyRecord[], at: Date) =>
    [...keyStates(keys, at)].filter(([, state]) => state === 'expired').map(([kid]) => kid);

  /**
   * An expired key may never sign again, and nothing verifies with it any more: keeping its private
   * half would only give a stolen backup plus key encryption key something to forge with.
   */
  async function deleteExpired(writer: SigningKeyWriter, keys: SigningKeyRecord[], at: Date): Promise<void> {
    const kids = expiredKids(keys, at);
    if (kids.length === 0) return;
    await writer.delete(kids);
    logger.info({ kids }, 'Deleted expired signing keys');
  }

  function unlock(keys: SigningKeyRecord[], at: Date): UnlockedSigningKey[] {
    const states = keyStates(keys, at);
    return keys
      .filter((key) => states.get(key.kid) !== 'expired')
      .map(({ kid, alg, activatesAt, retiresAt, expiresAt, encryptedPrivateJwk }) => ({
        kid,
        alg,
        activatesAt,
        retiresAt,
        expiresAt,
        privateJwk: decryptPrivateJwk(encryptedPrivateJwk, kid, keyEncryptionKey),
      }));
  }

  async function load(): Promise<KeyRing> {
    const at = now();
    return buildKeyRing(unlock(await repository.findAll(), at), at);
  }

  return {
    async ensureKeys() {
      const at = now();
      const seen = await repository.findAll();
      const missing = unsignedAlgorithms(seen, at);
      if (missing.length === 0 && expiredKids(seen, at).length === 0) return [];

      // Generated before taking the lock, so that the lock is held only for a few statements.
      const generated = await Promise.all(missing.map((alg) => generateKey(alg, at, at)));
      return repository.exclusively(async (writer) => {
        const stored = await writer.findAll();
        // Another process may have created keys while this one was generating: only fill what is still missing.
        const stillMissing = new Set<string>(unsignedAlgorithms(stored, at));
        const created = generated.filter((key) => stillMissing.has(key.alg));
        await deleteExpired(writer, stored, at);
        if (created.length > 0) {
          await writer.insert(created);
          logger.info({ keys: created.map(({ kid, alg }) => ({ kid, alg })) }, 'Created signing keys');
        }
        return created.map((key) => summarise(key, 'active'));
      });
    },

    async rotate({ publishFor = defaultPublishFor } = {}) {
      assertSeconds('publishFor', publishFor);
      const at = now();
      const activatesAt = new Date(at.getTime() + publishFor * 1000);
      const expiresAt = new Date(activatesAt.getTime() + retiredFor);
      const generated = await Promise.all(SIGNING_ALGORITHMS.map((alg) => generateKey(alg, at, activatesAt)));

      return repository.exclusively(async (writer) => {
        const stored = await writer.findAll();
        const unsigned = unsignedAlgorithms(stored, at);
        if (unsigned.length > 0) throw new NoActiveSigningKeyError(unsigned);
        const states = keyStates(stored, at);
        // Whatever would still sign at or after activatesAt: the current signers, and the keys a
        // rotation still pending staged (they sign until activatesAt, or never if it comes first).
        const superseded = stored.filter(
          (key) => states.get(key.kid) !== 'expired' && (key.retiresAt === null || key.retiresAt > activatesAt) && generated.some((fresh) => fresh.alg === key.alg),
        );
        await deleteExpired(writer, stored, at);
        await writer.retire(
          superseded.map((key) => key.kid),
          { retiresAt: activatesAt, expiresAt },
        );
        await writer.insert(generated);
        const rotation: Rotation = {
          created: generated.map(({ kid, alg }) => ({ kid, alg })),
          activatesAt,
          retired: superseded.map(({ kid, alg }) => ({ kid, alg })),
          expiresAt,
        };
        logger.info({ rotation }, 'Rotated signing keys');
        return rotation;
      });
    },

    async list() {
      const at = now();
      const keys = await repository.findAll();
      const states = keyStates(keys, at);
      return keys.map((key) => summarise(key, states.get(key.kid) ?? 'expired'));
    },

    load,

    watch({ current, intervalMs = DEFAULT_WATCH_INTERVAL_MS, onChange }) {
      if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, not ${intervalMs}`);
      let ring = current;
      // The last keys read, so that a key retiring or expiring on schedule takes effect even while the database is unreachable.
      let keys: UnlockedSigningKey[] | undefined;
      let timer: NodeJS.Timeout | undefined;
      let reloading: Promise<void> = Promise.resolve();
      let stopped = false;

      async function refresh(): Promise<void> {
        const at = now();
        try {
          keys = unlock(await repository.findAll(), at);
        } catch (error) {
          if (!keys) throw error;
          logger.warn({ err: error }, 'Could not reload the signing keys; applying their schedule to the last ones read');
        }
        const next = buildKeyRing(keys, at);
        if (next.fingerprint !== ring.fingerprint) {
          if (stopped) return;
          await onChange(next);
          logger.info({ signers: next.signers, published: next.publicJwks.keys.map((jwk) => jwk.kid) }, 'Signing keys changed');
        }
        ring = next;
      }

      function schedule(delay: number): void {
        if (stopped) return;
        timer = setTimeout(() => {
          reloading = refresh()
            .catch((error: unknown) => {
              if (!stopped) logger.warn({ err: error }, `Could not refresh the signing keys; retrying in ${intervalMs} ms`);
            })
            .finally(() => {
              const untilChange = ring.nextChangeAt ? ring.nextChangeAt.getTime() - now().getTime() : Infinity;
              schedule(Math.max(0, Math.min(intervalMs, untilChange)));
            });
        }, delay);
        // Never what keeps the process alive: shutting down is the server's decision.
        timer.unref();
      }

      // Read at once: it catches a change made since `current` was loaded and fills `keys`.
      schedule(0);
      return {
        async stop() {
          stopped = true;
          clearTimeout(timer);
          await reloading;
        },
      };
    },
  };
}

function summarise({ kid, alg, createdAt, activatesAt, retiresAt, expiresAt }: SigningKeyRecord, state: KeyState): SigningKeySummary {
  return { kid, alg, state, createdAt, activatesAt, retiresAt, expiresAt };
}

function assertSeconds(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of seconds, not ${value}`);
}

/** The signing keys of a Latch configuration, on its database: what the server and the admin CLI share. */
export function signingKeysOf(
  config: { secrets: { keyEncryptionKey: Buffer }; oidc: { ttl: { accessToken: number; idToken: number } } },
  prisma: PrismaClient,
  { logger, now = () => new Date() }: { logger: Logger; now?: () => Date },
): SigningKeys {
  return createSigningKeys({
    repository: createPrismaSigningKeyRepository(prisma),
    keyEncryptionKey: config.secrets.keyEncryptionKey,
    tokenTtl: config.oidc.ttl,
    publishFor: DEFAULT_PUBLISH_FOR_SECONDS,
    now,
    logger,
  });
}
