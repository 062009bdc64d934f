import { createHash } from 'node:crypto';
import { createLocalJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';

/** What Latch signs with, one current key each. RS256 is OpenID Connect's default ID token algorithm. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** A key's lifecycle: published from creation, signs from activatesAt until retiresAt, leaves the JWKS at expiresAt. */
export interface KeySchedule {
  kid: string;
  alg: string;
  activatesAt: Date;
  retiresAt: Date | null;
  expiresAt: Date | null;
}

/**
 * staged: published, not signing yet. active: the one key signing its alg. retired: published so
 * that what it signed still verifies, signing no more. expired: out of the JWKS for good.
 */
export type KeyState = 'staged' | 'active' | 'retired' | 'expired';

export interface UnlockedSigningKey extends KeySchedule {
  privateJwk: JWK;
}

export interface KeyRing {
  /**
   * oidc-provider's `jwks` option: private JWKs, the current signer of each alg first and without
   * key_ops; every other published key carries key_ops ["verify"], which keeps oidc-provider from
   * ever signing with it while it still publishes it.
   */
  jwks: JSONWebKeySet;
  /** The same keys as the JWKS endpoint serves them: public members only. */
  publicJwks: JSONWebKeySet;
  /** alg → kid of the key signing it. */
  signers: Record<string, string>;
  /** Changes exactly when the published keys or the signers do: when oidc-provider must be rebuilt. */
  fingerprint: string;
  /** The next moment the ring may change without anyone writing to the database. */
  nextChangeAt: Date | null;
}

/**
 * Which member names a JWK of each type may carry, public and private. Copying by name, rather than
 * deleting private names, means a member this list does not know can never reach the JWKS.
 */
const MEMBERS: Record<string, { public: string[]; private: string[] }> = {
  RSA: { public: ['kty', 'n', 'e'], private: ['d', 'p', 'q', 'dp', 'dq', 'qi'] },
  EC: { public: ['kty', 'crv', 'x', 'y'], private: ['d'] },
  OKP: { public: ['kty', 'crv', 'x'], private: ['d'] },
};

/**
 * The key signing each alg at `now`. Rotation never lets two keys of one alg sign at once; should
 * the rows say otherwise, the newest wins, so every process still picks the same one.
 */
export function currentSigners<K extends KeySchedule>(keys: K[], now: Date): Map<string, K> {
  const signers = new Map<string, K>();
  for (const key of keys) {
    if (!canSign(key, now)) continue;
    const incumbent = signers.get(key.alg);
    if (!incumbent || compareNewestFirst(key, incumbent) < 0) signers.set(key.alg, key);
  }
  return signers;
}

/** kid → state at `now`. */
export function keyStates(keys: KeySchedule[], now: Date): Map<string, KeyState> {
  const signers = new Set([...currentSigners(keys, now).values()].map((key) => key.kid));
  return new Map(keys.map((key) => [key.kid, stateOf(key, now, signers)]));
}

/** The key ring at `now`: a pure function of the keys, so that every process derives the same one. */
export function buildKeyRing(keys: UnlockedSigningKey[], now: Date): KeyRing {
  const states = keyStates(keys, now);
  const published = keys
    .filter((key) => states.get(key.kid) !== 'expired')
    .map((key) => ({ key, signs: states.get(key.kid) === 'active' }))
    .sort((a, b) => Number(b.signs) - Number(a.signs) || compareNewestFirst(a.key, b.key));

  return {
    jwks: { keys: published.map(({ key, signs }) => toJwk(key, signs, 'private')) },
    publicJwks: { keys: published.map(({ key, signs }) => toJwk(key, signs, 'public')) },
    signers: Object.fromEntries(published.filter(({ signs }) => signs).map(({ key }) => [key.alg, key.kid])),
    // A kid is its key's thumbprint, so kid and role say everything oidc-provider is configured with.
    fingerprint: createHash('sha256')
      .update(JSON.stringify(published.map(({ key, signs }) => [key.kid, signs ? 'sign' : 'verify'])))
      .digest('base64url'),
    nextChangeAt: nextChange(keys.filter((key) => states.get(key.kid) !== 'expired'), now),
  };
}

function stateOf(key: KeySchedule, now: Date, signers: Set<string>): KeyState {
  if (key.expiresAt && now >= key.expiresAt) return 'expired';
  if (signers.has(key.kid)) return 'active';
  // A key superseded before it ever activated is retired, not staged: it will never sign.
  if (now < key.activatesAt && !(key.retiresAt && now >= key.retiresAt)) return 'staged';
  return 'retired';
}

function canSign(key: KeySchedule, now: Date): boolean {
  return key.activatesAt <= now && (!key.retiresAt || now < key.retiresAt) && (!key.expiresAt || now < key.expiresAt);
}

function compareNewestFirst(a: KeySchedule, b: KeySchedule): number {
  return b.activatesAt.getTime() - a.activatesAt.getTime() || (a.kid < b.kid ? 1 : a.kid > b.kid ? -1 : 0);
}

function toJwk(key: UnlockedSigningKey, signs: boolean, part: 'public' | 'private'): JWK {
  const members = MEMBERS[key.privateJwk.kty ?? ''];
  if (!members) throw new Error(`Signing key ${key.kid} has key type ${String(key.privateJwk.kty)}, which Latch does not sign with`);
  const names = part === 'public' ? members.public : [...members.public, ...members.private];
  const source = key.privateJwk as Record<string, unknown>;
  return {
    ...Object.fromEntries(names.filter((name) => source[name] !== undefined).map((name) => [name, source[name]])),
    kid: key.kid,
    alg: key.alg,
    use: 'sig',
    ...(signs ? {} : { key_ops: ['verify'] }),
  };
}

function nextChange(keys: KeySchedule[], now: Date): Date | null {
  const future = keys
    .flatMap((key) => [key.activatesAt, key.retiresAt, key.expiresAt])
    .filter((date): date is Date => date !== null && date > now)
    .map((date) => date.getTime());
  return future.length > 0 ? new Date(Math.min(...future)) : null;
}

/**
 * jose's key resolver over the current ring's public keys, for verifying Latch's own tokens
 * inside Latch; rebuilt only when the ring (and so the JWKS object) changes.
 */
export function verificationKeys(currentJwks: () => JSONWebKeySet): JWTVerifyGetKey {
  let cached: { source: JSONWebKeySet; resolve: JWTVerifyGetKey } | undefined;
  return (header, token) => {
    const source = currentJwks();
    if (cached?.source !== source) cached = { source, resolve: createLocalJWKSet(source) };
    return cached.resolve(header, token);
  };
}
