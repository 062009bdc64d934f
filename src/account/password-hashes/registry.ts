import { argon2Format } from './argon2.js';
import { bcryptFormat } from './bcrypt.js';
import { firebaseScryptFormat } from './firebase-scrypt.js';
import type { HashFormat } from './format.js';
import { djangoPbkdf2Format, pbkdf2Format } from './pbkdf2.js';
import { scryptFormat } from './scrypt.js';

const FORMATS: readonly HashFormat[] = [argon2Format, bcryptFormat, scryptFormat, firebaseScryptFormat, pbkdf2Format, djangoPbkdf2Format];

/**
 * What an account imported without a password hash stores: no format reads it, so no password
 * matches it until the user sets one with a reset link (the shadow file's convention for "locked").
 */
export const NO_PASSWORD = '!';

export const SUPPORTED_HASH_FORMATS = 'argon2 (i, d, id), bcrypt ($2a$, $2b$, $2y$), scrypt, firebase-scrypt, pbkdf2-sha256/512 (PHC) and Django pbkdf2_sha256';

/** The format a hash is written in, or undefined for one Latch cannot read. */
export function hashFormatOf(hash: string): HashFormat | undefined {
  return FORMATS.find((format) => format.recognizes(hash));
}

/** Why a hash cannot be stored for a user (unknown format, malformed, too costly), or null when it can. */
export function hashProblem(hash: string): string | null {
  const format = hashFormatOf(hash);
  if (!format) return `unsupported password hash format: Latch reads ${SUPPORTED_HASH_FORMATS}`;
  const problem = format.problem(hash);
  return problem && `invalid ${format.name} hash: ${problem}`;
}

/** Whether the password matches the hash, whatever accepted format it is in; a hash no format accepts matches nothing. */
export async function verifyAnyHash(hash: string, password: string): Promise<boolean> {
  const format = hashFormatOf(hash);
  if (!format || format.problem(hash) !== null) return false;
  return format.verify(hash, password);
}
