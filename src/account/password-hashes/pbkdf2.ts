import { pbkdf2 as pbkdf2Callback } from 'node:crypto';
import { promisify } from 'node:util';
import { parsed, refused, type HashFormat, type Parsed } from './format.js';
import { decodeBase64, integerParameters, outOfRange, parsePhc, sameBytes } from './phc.js';

const pbkdf2Async = promisify(pbkdf2Callback);

const DIGESTS = { 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512' } as const;
type PhcId = keyof typeof DIGESTS;
// Django 5.2 uses 1,000,000 for SHA-256; ten times that is still seconds, not minutes.
const MAX_ITERATIONS = 10_000_000;

interface Pbkdf2 {
  digest: 'sha256' | 'sha512';
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

const verifyPbkdf2 = async ({ digest, iterations, salt, hash }: Pbkdf2, password: string) =>
  sameBytes(await pbkdf2Async(password, salt, iterations, hash.length, digest), hash);

function iterationsProblem(iterations: number | undefined): string | null {
  return outOfRange('the iteration count', iterations, 1, MAX_ITERATIONS);
}

function parsePhcPbkdf2(hash: string): Parsed<Pbkdf2> {
  const phc = parsePhc(hash);
  if (!phc.ok) return phc;
  const { id, parameters, salt, hash: stored } = phc.value;
  // The PHC form writes `i=<iterations>[,l=<length>]`; passlib writes the bare number.
  const iterations = /^\d{1,10}$/.test(parameters) ? Number(parameters) : integerParameters(parameters)?.get('i');
  const problem = iterationsProblem(iterations);
  if (problem) return refused(problem);
  return parsed({ digest: DIGESTS[id as PhcId], iterations: iterations as number, salt, hash: stored });
}

/**
 * PBKDF2-HMAC-SHA256/512 in PHC form: `$pbkdf2-sha256$i=<iterations>$<salt>$<hash>` (an `l=` length is
 * allowed; the hash's own length is used) or passlib's `$pbkdf2-sha512$<iterations>$<salt>$<hash>`.
 */
export const pbkdf2Format: HashFormat = {
  name: 'pbkdf2',
  recognizes: (hash) => Object.keys(DIGESTS).some((id) => hash.startsWith(`$${id}$`)),

  problem(hash) {
    const result = parsePhcPbkdf2(hash);
    return result.ok ? null : result.problem;
  },

  async verify(hash, password) {
    const result = parsePhcPbkdf2(hash);
    return result.ok && verifyPbkdf2(result.value, password);
  },
};

const DJANGO = /^pbkdf2_sha256\$(\d{1,10})\$([^$]+)\$([A-Za-z0-9+/]+={0,2})$/;

function parseDjango(hash: string): Parsed<Pbkdf2> {
  const match = DJANGO.exec(hash);
  if (!match) return refused('expected pbkdf2_sha256$<iterations>$<salt>$<base64 hash>');
  const iterations = Number(match[1]);
  const problem = iterationsProblem(iterations);
  const stored = decodeBase64(match[3] as string);
  if (problem || !stored) return refused(problem ?? 'the hash must be base64');
  // Django feeds its salt to PBKDF2 as the text it is, not decoded.
  return parsed({ digest: 'sha256', iterations, salt: Buffer.from(match[2] as string, 'utf8'), hash: stored });
}

/** Django's default hasher: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`. */
export const djangoPbkdf2Format: HashFormat = {
  name: 'django-pbkdf2',
  recognizes: (hash) => hash.startsWith('pbkdf2_sha256$'),

  problem(hash) {
    const result = parseDjango(hash);
    return result.ok ? null : result.problem;
  },

  async verify(hash, password) {
    const result = parseDjango(hash);
    return result.ok && verifyPbkdf2(result.value, password);
  },
};
