import { decryptPrivateJwk, encryptPrivateJwk, SigningKeyDecryptionError } from '../../../src/provider/keys/key-encryption.js';
import { generatePrivateJwk, randomKeyEncryptionKey } from './support.js';

/** Changes the first character of one dot-separated part (0 format, 1 iv, 2 ciphertext, 3 tag). */
function tamper(encrypted: string, part: number): string {
  const parts = encrypted.split('.');
  const target = parts[part] ?? '';
  parts[part] = (target.startsWith('A') ? 'B' : 'A') + target.slice(1);
  return parts.join('.');
}

describe('private JWK encryption', () => {
  const key = randomKeyEncryptionKey();
  let kid: string;
  let otherKid: string;
  let privateJwk: Awaited<ReturnType<typeof generatePrivateJwk>>['privateJwk'];

  beforeAll(async () => {
    ({ kid, privateJwk } = await generatePrivateJwk('RS256'));
    ({ kid: otherKid } = await generatePrivateJwk('ES256'));
  });

  it('round-trips, in a versioned text format that shows no key material and never repeats', () => {
    const encrypted = encryptPrivateJwk(privateJwk, kid, key);

    expect(encrypted).toMatch(/^v1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    expect(encrypted).not.toContain(String(privateJwk.d));
    expect(encryptPrivateJwk(privateJwk, kid, key)).not.toBe(encrypted);
    expect(decryptPrivateJwk(encrypted, kid, key)).toEqual(privateJwk);
  });

  it('names the key and the variable when the key encryption key is wrong', () => {
    const encrypted = encryptPrivateJwk(privateJwk, kid, key);

    const decryptWithAnotherKey = () => decryptPrivateJwk(encrypted, kid, randomKeyEncryptionKey());

    expect(decryptWithAnotherKey).toThrow(SigningKeyDecryptionError);
    expect(decryptWithAnotherKey).toThrow(`LATCH_KEY_ENCRYPTION_KEY does not decrypt signing key ${kid}`);
  });

  it.each([
    ['iv', 1],
    ['ciphertext', 2],
    ['authentication tag', 3],
  ])('refuses a tampered %s', (_part, index) => {
    const tampered = tamper(encryptPrivateJwk(privateJwk, kid, key), index);

    expect(() => decryptPrivateJwk(tampered, kid, key)).toThrow(SigningKeyDecryptionError);
  });

  it('refuses a truncated authentication tag', () => {
    const encrypted = encryptPrivateJwk(privateJwk, kid, key);
    const truncated = encrypted.slice(0, encrypted.lastIndexOf('.') + 6);

    expect(() => decryptPrivateJwk(truncated, kid, key)).toThrow(SigningKeyDecryptionError);
  });

  it('refuses a ciphertext moved to another kid', () => {
    const encrypted = encryptPrivateJwk(privateJwk, kid, key);

    expect(() => decryptPrivateJwk(encrypted, otherKid, key)).toThrow(`LATCH_KEY_ENCRYPTION_KEY does not decrypt signing key ${otherKid}`);
  });

  it('says so when the stored text is in no format it knows', () => {
    const encrypted = encryptPrivateJwk(privateJwk, kid, key);

    expect(() => decryptPrivateJwk(encrypted.replace(/^v1/, 'v2'), kid, key)).toThrow(`Signing key ${kid} is not stored in a format this version of Latch reads`);
    expect(() => decryptPrivateJwk(JSON.stringify(privateJwk), kid, key)).toThrow(SigningKeyDecryptionError);
    expect(() => decryptPrivateJwk('v1...', kid, key)).toThrow(SigningKeyDecryptionError);
  });

  it('insists on a 256-bit key', () => {
    expect(() => encryptPrivateJwk(privateJwk, kid, key.subarray(0, 16))).toThrow(RangeError);
  });
});
