import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * Secrets at rest, private signing keys first: AES-256-GCM under LATCH_KEY_ENCRYPTION_KEY, as
 * `v1.<iv>.<ciphertext>.<tag>` (base64url). The kid is the additional authenticated data, so a
 * ciphertext copied into another row fails to decrypt instead of lending that row its key.
 */
const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** The key encryption key is wrong, or the stored text was altered or moved: GCM cannot tell these apart. */
export class SigningKeyDecryptionError extends Error {
  override readonly name = 'SigningKeyDecryptionError';

  constructor(
    readonly kid: string,
    message = `LATCH_KEY_ENCRYPTION_KEY does not decrypt signing key ${kid}: the signing keys in the database were encrypted with another key encryption key. ` +
      'Set LATCH_KEY_ENCRYPTION_KEY back to that one (in development, generated ones are kept in development-secrets.json in LATCH_DATA_DIR). ' +
      'If it is lost, delete the rows of the signing_keys table: Latch then creates new keys, and tokens the old ones signed stop validating.',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function encryptPrivateJwk(privateJwk: JWK, kid: string, key: Buffer): string {
  return encryptText(JSON.stringify(privateJwk), kid, key);
}

export function decryptPrivateJwk(encrypted: string, kid: string, key: Buffer): JWK {
  let plaintext: string;
  try {
    plaintext = decryptText(encrypted, kid, key);
  } catch (error) {
    if (!(error instanceof UnreadableCiphertextError)) throw error;
    throw error.format
      ? new SigningKeyDecryptionError(kid, `Signing key ${kid} is not stored in a format this version of Latch reads (expected ${FORMAT})`)
      : new SigningKeyDecryptionError(kid, undefined, { cause: error.cause });
  }
  // Authenticated, so it is the JSON this module wrote.
  return JSON.parse(plaintext) as JWK;
}

/** `format`: not text this module wrote; otherwise GCM refused it (another key, or altered or moved text). */
export class UnreadableCiphertextError extends Error {
  override readonly name = 'UnreadableCiphertextError';

  constructor(
    readonly format: boolean,
    options?: ErrorOptions,
  ) {
    super(format ? `not in the ${FORMAT} format` : 'does not decrypt with this key and additional data', options);
  }
}

/**
 * Any secret at rest in the same format (signing keys, TOTP secrets): `aad` binds the ciphertext to
 * the row it belongs to, so that a ciphertext copied into another row does not decrypt there.
 */
export function encryptText(plaintext: string, aad: string, key: Buffer): string {
  assertKeyLength(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT, ...[iv, ciphertext, cipher.getAuthTag()].map((bytes) => bytes.toString('base64url'))].join('.');
}

export function decryptText(encrypted: string, aad: string, key: Buffer): string {
  assertKeyLength(key);
  const [format, iv, ciphertext, tag, ...rest] = encrypted.split('.');
  if (format !== FORMAT || iv === undefined || ciphertext === undefined || tag === undefined || rest.length > 0) throw new UnreadableCiphertextError(true);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    // With authTagLength set, a truncated tag (a weaker check) is refused rather than accepted.
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch (error) {
    throw new UnreadableCiphertextError(false, { cause: error });
  }
}

function assertKeyLength(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new RangeError(`The key encryption key must be ${KEY_BYTES} bytes, not ${key.length}`);
}
