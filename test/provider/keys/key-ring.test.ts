import { jest } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import Provider, { type Configuration } from 'oidc-provider';
import request from 'supertest';
import { buildKeyRing, keyStates, type KeyRing, type UnlockedSigningKey } from '../../../src/provider/keys/key-ring.js';
import { DAY, HOUR, privateMembersOf, unlockedKey } from './support.js';

const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;
const T0 = new Date('2030-01-01T00:00:00Z');
const at = (offset: number) => new Date(T0.getTime() + offset);

/** An oidc-provider built on the ring, as Latch builds it, with one client per algorithm. */
function providerFor(ring: KeyRing): Provider {
  return new Provider('https://latch.test', {
    jwks: ring.jwks as Configuration['jwks'],
    cookies: { keys: ['a cookie key that is long enough to be accepted'] },
    ttl: { IdToken: 3600 },
    features: { devInteractions: { enabled: false } },
    enabledJWA: { idTokenSigningAlgValues: [...ALGORITHMS] },
    clients: ALGORITHMS.map((alg) => ({
      client_id: alg,
      client_secret: 'a client secret that nobody uses here',
      redirect_uris: ['https://rp.test/callback'],
      id_token_signed_response_alg: alg,
    })),
  });
}

/** An ID token signed by oidc-provider's own key selection. */
async function idTokenFrom(provider: Provider, alg: string): Promise<string> {
  const client = await provider.Client.find(alg);
  return new provider.IdToken({}, { client }).issue({ use: 'idtoken' });
}

describe('key ring', () => {
  // One rotation of RS256: `old` signs until T0 + 1 day, `next` from then; ES256 and EdDSA are not rotating.
  let old: UnlockedSigningKey;
  let next: UnlockedSigningKey;
  let es256: UnlockedSigningKey;
  let eddsa: UnlockedSigningKey;
  let keys: UnlockedSigningKey[];
  const retiresAt = at(DAY);
  const expiresAt = at(DAY + HOUR);

  beforeAll(async () => {
    old = await unlockedKey('RS256', { activatesAt: at(-30 * DAY), retiresAt, expiresAt });
    next = await unlockedKey('RS256', { activatesAt: retiresAt });
    es256 = await unlockedKey('ES256', { activatesAt: at(-30 * DAY) });
    eddsa = await unlockedKey('EdDSA', { activatesAt: at(-30 * DAY) });
    keys = [next, old, es256, eddsa];
  });

  beforeEach(() => {
    // oidc-provider warns about its in-memory adapter, which these tests never touch.
    jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => jest.restoreAllMocks());

  const kidsOf = (jwks: { keys: { kid?: string }[] }) => jwks.keys.map((jwk) => jwk.kid);

  it('takes a key from staged to active to retired to gone', () => {
    expect(Object.fromEntries(keyStates([old, next], at(0)))).toEqual({ [old.kid]: 'active', [next.kid]: 'staged' });
    expect(Object.fromEntries(keyStates([old, next], retiresAt))).toEqual({ [old.kid]: 'retired', [next.kid]: 'active' });
    expect(Object.fromEntries(keyStates([old, next], expiresAt))).toEqual({ [old.kid]: 'expired', [next.kid]: 'active' });

    expect(kidsOf(buildKeyRing(keys, at(0)).publicJwks)).toEqual(expect.arrayContaining([old.kid, next.kid]));
    expect(kidsOf(buildKeyRing(keys, at(DAY + HOUR - 1)).publicJwks)).toContain(old.kid);
    expect(kidsOf(buildKeyRing(keys, expiresAt).publicJwks)).not.toContain(old.kid);
  });

  it('lists the current signers first, without key_ops, and every other published key as verify-only', () => {
    const before = buildKeyRing(keys, at(0));
    expect(before.signers).toEqual({ RS256: old.kid, ES256: es256.kid, EdDSA: eddsa.kid });
    expect(before.jwks.keys.slice(0, 3).map((jwk) => [jwk.kid, jwk.key_ops])).toEqual(
      expect.arrayContaining([old.kid, es256.kid, eddsa.kid].map((kid) => [kid, undefined])),
    );
    expect(before.jwks.keys[3]).toMatchObject({ kid: next.kid, alg: 'RS256', use: 'sig', key_ops: ['verify'] });

    const after = buildKeyRing(keys, retiresAt);
    expect(after.signers.RS256).toBe(next.kid);
    expect(after.jwks.keys.find((jwk) => jwk.kid === old.kid)?.key_ops).toEqual(['verify']);
    expect(after.jwks.keys.find((jwk) => jwk.kid === next.kid)?.key_ops).toBeUndefined();
  });

  it('lets the newest key sign when two of one algorithm could', async () => {
    const older = await unlockedKey('ES256', { activatesAt: at(-2 * DAY) });
    const newer = await unlockedKey('ES256', { activatesAt: at(-DAY) });

    const ring = buildKeyRing([older, newer], at(0));

    expect(ring.signers).toEqual({ ES256: newer.kid });
    expect(ring.jwks.keys.map((jwk) => [jwk.kid, jwk.key_ops])).toEqual([
      [newer.kid, undefined],
      [older.kid, ['verify']],
    ]);
  });

  it('keeps private members out of the public JWKS and in the private one', () => {
    const ring = buildKeyRing(keys, at(0));

    for (const jwk of ring.publicJwks.keys) expect(privateMembersOf(jwk)).toEqual([]);
    expect(ring.jwks.keys.find((jwk) => jwk.kty === 'RSA')).toEqual(expect.objectContaining({ d: expect.any(String), qi: expect.any(String) }));
    expect(ring.jwks.keys.find((jwk) => jwk.kty === 'OKP')).toEqual(expect.objectContaining({ d: expect.any(String) }));
  });

  it('changes its fingerprint exactly when the published set or a signer changes, and says when that may next happen', () => {
    const fingerprint = (offset: number) => buildKeyRing(keys, at(offset)).fingerprint;

    expect(fingerprint(0)).toBe(fingerprint(DAY - 1));
    expect(fingerprint(DAY)).not.toBe(fingerprint(DAY - 1));
    expect(fingerprint(DAY)).toBe(fingerprint(DAY + HOUR - 1));
    expect(fingerprint(DAY + HOUR)).not.toBe(fingerprint(DAY + HOUR - 1));
    expect(fingerprint(DAY + HOUR)).toBe(fingerprint(365 * DAY));
    // Adding a staged key publishes it: a change, although no signer changed.
    expect(buildKeyRing([old, es256, eddsa], at(0)).fingerprint).not.toBe(fingerprint(0));

    expect(buildKeyRing(keys, at(0)).nextChangeAt).toEqual(retiresAt);
    expect(buildKeyRing(keys, retiresAt).nextChangeAt).toEqual(expiresAt);
    expect(buildKeyRing(keys, expiresAt).nextChangeAt).toBeNull();
  });

  it('drives oidc-provider: it signs with each signer and publishes exactly the public JWKS', async () => {
    for (const offset of [0, DAY]) {
      const ring = buildKeyRing(keys, at(offset));
      const provider = providerFor(ring);

      const { body } = await request(provider.callback()).get('/jwks').expect(200);
      expect(body).toEqual(ring.publicJwks);

      for (const alg of ALGORITHMS) {
        const token = await idTokenFrom(provider, alg);
        expect(decodeProtectedHeader(token)).toMatchObject({ alg, kid: ring.signers[alg] });
        await expect(jwtVerify(token, createLocalJWKSet(ring.publicJwks), { issuer: 'https://latch.test', audience: alg })).resolves.toBeDefined();
      }
    }
  });

  it("verifies a retired key's tokens while it is published, and not after", async () => {
    const token = await idTokenFrom(providerFor(buildKeyRing(keys, at(0))), 'RS256');
    const verifyAt = (offset: number) => jwtVerify(token, createLocalJWKSet(buildKeyRing(keys, at(offset)).publicJwks));

    expect(decodeProtectedHeader(token).kid).toBe(old.kid);
    await expect(verifyAt(DAY + HOUR - 1)).resolves.toMatchObject({ payload: { iss: 'https://latch.test', aud: 'RS256' } });
    await expect(verifyAt(DAY + HOUR)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('gives jose a verify-only key it can verify with and cannot sign with', async () => {
    const ring = buildKeyRing(keys, retiresAt);
    const retiredPrivate = ring.jwks.keys.find((jwk) => jwk.kid === old.kid);
    const activePrivate = ring.jwks.keys.find((jwk) => jwk.kid === next.kid);
    const retiredPublic = ring.publicJwks.keys.find((jwk) => jwk.kid === old.kid);
    if (!retiredPrivate || !activePrivate || !retiredPublic) throw new Error('both RS256 keys should be published');

    await expect(new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).sign(retiredPrivate)).rejects.toThrow('"key_ops" must include "sign"');
    // Signed directly with the old key's material, as a token from before its retirement was.
    const { key_ops: _verifyOnly, ...signable } = retiredPrivate;
    const token = await new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'RS256', kid: old.kid }).sign(signable);
    expect(retiredPublic.key_ops).toEqual(['verify']);
    await expect(jwtVerify(token, retiredPublic)).resolves.toMatchObject({ payload: { sub: 'bob' } });
    await expect(jwtVerify(token, createLocalJWKSet(ring.publicJwks))).resolves.toMatchObject({ payload: { sub: 'bob' } });
    await expect(new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).sign(activePrivate)).resolves.toEqual(expect.any(String));
  });
});
