import { scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';
import { parsed, refused, type HashFormat, type Parsed } from './format.js';
import { integerParameters, outOfRange, parsePhc, sameBytes, type PhcString } from './phc.js';

const scryptAsync = promisify(scryptCallback) as (password: string | Buffer, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;

/** 128·N·r bytes of memory per derivation: bounded so that one imported hash cannot exhaust the machine. */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

export interface ScryptCost {
  /** log2 of N. */
  ln: number;
  r: number;
  p: number;
}

/** Why these scrypt parameters cannot be used, or null. */
export function scryptCostProblem({ ln, r, p }: Partial<ScryptCost>): string | null {
  const bounds = outOfRange('ln', ln, 1, 24) ?? outOfRange('r', r, 1, 64) ?? outOfRange('p', p, 1, 16);
  if (bounds) return bounds;
  return 128 * 2 ** (ln as number) * (r as number) <= MAX_MEMORY_BYTES ? null : 'the scrypt parameters need more than 256 MiB (128·2^ln·r bytes)';
}

/** node's scrypt, with room for exactly the memory these parameters need (its default stops at 32 MiB). */
export function deriveScrypt(password: string | Buffer, salt: Buffer, keyLength: number, { ln, r, p }: ScryptCost): Promise<Buffer> {
  const N = 2 ** ln;
  return scryptAsync(password, salt, keyLength, { N, r, p, maxmem: 2 * 128 * N * r });
}

function parseScrypt(hash: string): Parsed<PhcString & ScryptCost> {
  const phc = parsePhc(hash);
  if (!phc.ok) return phc;
  const values = integerParameters(phc.value.parameters);
  if (!values || values.size !== 3) return refused('the scrypt parameters must be ln, r and p');
  const cost = { ln: values.get('ln'), r: values.get('r'), p: values.get('p') };
  const problem = scryptCostProblem(cost);
  return problem ? refused(problem) : parsed({ ...phc.value, ...(cost as ScryptCost) });
}

/** scrypt in PHC form, as passlib writes it: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`, salt and hash base64. */
export const scryptFormat: HashFormat = {
  name: 'scrypt',
  recognizes: (hash) => hash.startsWith('$scrypt$'),

  problem(hash) {
    const result = parseScrypt(hash);
    return result.ok ? null : result.problem;
  },

  async verify(hash, password) {
    const result = parseScrypt(hash);
    if (!result.ok) return false;
    const { salt, hash: stored } = result.value;
    return sameBytes(await deriveScrypt(password, salt, stored.length, result.value), stored);
  },
};
