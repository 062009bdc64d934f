import { createCipheriv } from 'node:crypto';
import { parsed, refused, type HashFormat, type Parsed } from './format.js';
import { decodeBase64, encodeBase64, integerParameters, parameterMap, parsePhc, sameBytes } from './phc.js';
import { deriveScrypt, scryptCostProblem } from './scrypt.js';

/** What Firebase's `auth:export` gives per user (salt, hash) and per project (the rest), all base64 but the two numbers. */
export interface FirebaseScryptExport {
  hash: string;
  salt: string;
  signer_key: string;
  salt_separator: string;
  rounds: number;
  memory_cost: number;
}

interface FirebaseScrypt {
  salt: Buffer;
  hash: Buffer;
  separator: Buffer;
  signerKey: Buffer;
  ln: number;
  r: number;
}

const PREFIX = '$firebase-scrypt$';

/**
 * Firebase's modified scrypt (https://github.com/firebase/scrypt): scrypt(password, salt ‖ salt
 * separator, N = 2^memory_cost, r = rounds, p = 1) gives a 256-bit key, which encrypts the project's
 * signer key with AES-256-CTR under a zero IV; the ciphertext is the user's hash. Stored as one
 * PHC-style string so that a user row carries everything its sign-in needs:
 * `$firebase-scrypt$ln=<memory_cost>,r=<rounds>,ss=<salt separator>,sk=<signer key>$<salt>$<hash>`.
 */
export const firebaseScryptFormat: HashFormat = {
  name: 'firebase-scrypt',
  recognizes: (hash) => hash.startsWith(PREFIX),

  problem(hash) {
    const result = parseFirebaseScrypt(hash);
    return result.ok ? null : result.problem;
  },

  async verify(hash, password) {
    const result = parseFirebaseScrypt(hash);
    if (!result.ok) return false;
    const { salt, hash: stored, separator, signerKey, ln, r } = result.value;
    const key = await deriveScrypt(password, Buffer.concat([salt, separator]), 32, { ln, r, p: 1 });
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    return sameBytes(Buffer.concat([cipher.update(signerKey), cipher.final()]), stored);
  },
};

/** The stored form of a Firebase export's user, or why it cannot be one. */
export function fromFirebaseExport(exported: FirebaseScryptExport): Parsed<string> {
  const parts = ([['hash', exported.hash], ['salt', exported.salt], ['signer_key', exported.signer_key], ['salt_separator', exported.salt_separator]] as const).map(
    ([field, value]) => [field, decodeBase64(value)] as const,
  );
  const invalid = parts.find(([, bytes]) => !bytes);
  if (invalid) return refused(`${invalid[0]} must be base64`);
  const [hash, salt, signerKey, separator] = parts.map(([, bytes]) => encodeBase64(bytes as Buffer));
  const stored = `${PREFIX}ln=${exported.memory_cost},r=${exported.rounds},ss=${separator},sk=${signerKey}$${salt}$${hash}`;
  const problem = firebaseScryptFormat.problem(stored);
  return problem ? refused(problem) : parsed(stored);
}

function parseFirebaseScrypt(hash: string): Parsed<FirebaseScrypt> {
  const phc = parsePhc(hash);
  if (!phc.ok) return phc;
  const values = parameterMap(phc.value.parameters);
  const cost = values && integerParameters([`ln=${values.get('ln')}`, `r=${values.get('r')}`].join(','));
  const separator = decodeBase64(values?.get('ss') ?? '');
  const signerKey = decodeBase64(values?.get('sk') ?? '');
  if (!values || values.size !== 4 || !cost || !separator || !signerKey || signerKey.length === 0) {
    return refused('the firebase-scrypt parameters must be ln (memory cost), r (rounds), ss (salt separator) and sk (signer key)');
  }
  const ln = cost.get('ln') as number;
  const r = cost.get('r') as number;
  const problem = scryptCostProblem({ ln, r, p: 1 });
  return problem ? refused(problem) : parsed({ salt: phc.value.salt, hash: phc.value.hash, separator, signerKey, ln, r });
}
