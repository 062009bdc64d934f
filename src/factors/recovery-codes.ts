import { createHash, randomBytes } from 'node:crypto';

export const RECOVERY_CODE_COUNT = 10;

/**
 * 32 symbols (no 0/o, 1/l) so each random byte maps to one evenly; 16 of them are 80 bits. Codes
 * that random are stored as their SHA-256: nobody can search 2^80 candidates per code, so a slow
 * hash (argon2) would buy nothing and cost a hash per stored code on every attempt, where SHA-256
 * lets the code be looked up by its hash in one indexed statement.
 */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
const LENGTH = 16;

/** A new code, shown as four groups of four. */
export function newRecoveryCode(): string {
  const symbols = [...randomBytes(LENGTH)].map((byte) => ALPHABET[byte % ALPHABET.length]).join('');
  return symbols.match(/.{4}/g)?.join('-') ?? symbols;
}

/** What is stored and looked up: case, spaces and dashes as typed do not matter. */
export function recoveryCodeHash(code: string): string {
  return createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('hex');
}
