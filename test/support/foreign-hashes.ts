import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

/**
 * Hashes of a password as other systems store them, each made by the reference tool of its format
 * (bcryptjs, the argon2 package, node's scrypt and pbkdf2), with cheap parameters to keep tests fast.
 */
export async function foreignHashes(password: string): Promise<Record<string, string>> {
  const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
  const salt = randomBytes(16);
  const djangoSalt = randomBytes(9).toString('hex');
  return {
    'argon2id (other parameters)': await argon2.hash(password, { type: argon2.argon2id, memoryCost: 4096, timeCost: 3, parallelism: 2 }),
    argon2i: await argon2.hash(password, { type: argon2.argon2i, memoryCost: 4096, timeCost: 2, parallelism: 1 }),
    argon2d: await argon2.hash(password, { type: argon2.argon2d, memoryCost: 4096, timeCost: 2, parallelism: 1 }),
    'bcrypt $2b$': bcrypt.hashSync(password, 4),
    // bcryptjs writes $2b$ only; $2a$ (older libraries) and $2y$ (PHP) name the same computation for passwords under 255 bytes.
    'bcrypt $2a$': bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2a$'),
    'bcrypt $2y$': bcrypt.hashSync(password, 4).replace(/^\$2b\$/, '$2y$'),
    scrypt: `$scrypt$ln=10,r=8,p=1$${b64(salt)}$${b64(scryptSync(password, salt, 32, { N: 1024, r: 8, p: 1 }))}`,
    'pbkdf2-sha256': `$pbkdf2-sha256$i=1000$${b64(salt)}$${b64(pbkdf2Sync(password, salt, 1000, 32, 'sha256'))}`,
    'pbkdf2-sha512 (passlib)': `$pbkdf2-sha512$1000$${b64(salt).replaceAll('+', '.')}$${b64(pbkdf2Sync(password, salt, 1000, 64, 'sha512')).replaceAll('+', '.')}`,
    'django pbkdf2_sha256': `pbkdf2_sha256$1000$${djangoSalt}$${pbkdf2Sync(password, djangoSalt, 1000, 32, 'sha256').toString('base64')}`,
  };
}

/**
 * The public test vector of firebase/scrypt's README: a project's hash parameters and one exported
 * user, whose password is "user1password".
 */
export const FIREBASE_VECTOR = {
  password: 'user1password',
  export: {
    algorithm: 'firebase-scrypt',
    hash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
    salt: '42xEC+ixf3L2lw==',
    signer_key: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
    salt_separator: 'Bw==',
    rounds: 8,
    memory_cost: 14,
  },
} as const;
