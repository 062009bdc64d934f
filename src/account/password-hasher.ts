import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import type { Argon2Parameters } from '../config.js';
import { boundedConcurrency } from './bounded-concurrency.js';
import { NO_PASSWORD, verifyAnyHash } from './password-hashes/registry.js';

export interface PasswordVerification {
  valid: boolean;
  /** True only for a valid password whose stored hash was made with other parameters or another algorithm: hash it again now. */
  needsRehash: boolean;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<PasswordVerification>;
  /**
   * Spends the time of a real verification when there is no account to verify against, so that a
   * sign-in for an unknown email cannot be told apart from a wrong password by its response time.
   */
  verifyDummy(password: string): Promise<void>;
}

const ALGORITHM_PREFIX = '$argon2id$';

/**
 * node-argon2 0.45 encodes the parameters as m,p,t (ranisalt/node-argon2#559). The PHC string format
 * fixes them as m,t,p, and libargon2's and libsodium's decoders accept nothing else; stored hashes
 * outlive this library, so they are kept in the standard form (which node-argon2 reads as well).
 */
function inStandardOrder(hash: string): string {
  return hash.replace(/\$m=(\d+),p=(\d+),t=(\d+)\$/, '$$m=$1,t=$3,p=$2$$');
}

/**
 * argon2id at the configured cost (verifying every imported format too), at most `concurrency` hashes at a time (one per core by
 * default): sign-ins beyond that queue, and libuv's thread pool keeps threads for token signing.
 */
export function createPasswordHasher(parameters: Argon2Parameters, { concurrency = availableParallelism() } = {}): PasswordHasher {
  const options: argon2.HashOptions = { type: argon2.argon2id, ...parameters };
  const queued = boundedConcurrency(concurrency);
  // Started now so that the first unknown-email sign-in does not pay for it (and stand out by its time).
  // The hash is of random bytes that are never kept: no password can be known to match it.
  const dummyHash = argon2.hash(randomBytes(32), options);
  // A failure is reported by verifyDummy, which awaits this promise; until then it must not count as unhandled.
  dummyHash.catch(() => undefined);

  const verifyDummy = async (password: string) => {
    const hash = await dummyHash;
    await queued(() => argon2.verify(hash, password));
  };

  return {
    hash: async (password) => inStandardOrder(await queued(() => argon2.hash(password, options))),

    async verify(hash, password) {
      // An account without a password yet (imported without one) costs what a wrong password costs.
      if (hash === NO_PASSWORD) {
        await verifyDummy(password);
        return { valid: false, needsRehash: false };
      }
      // Imported users keep their old format (bcrypt, scrypt, PBKDF2, ...) until this rehash: as costly, so queued alike.
      const valid = await queued(() => verifyAnyHash(hash, password));
      return { valid, needsRehash: valid && (!hash.startsWith(ALGORITHM_PREFIX) || argon2.needsRehash(hash, parameters)) };
    },

    verifyDummy,
  };
}
