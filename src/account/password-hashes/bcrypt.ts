import bcrypt from 'bcryptjs';
import type { HashFormat } from './format.js';

const SHAPE = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
// Each step doubles the cost; 16 is already seconds per sign-in in bcryptjs.
const MAX_COST = 16;

/**
 * bcrypt in its modular crypt forms `$2a$`, `$2b$` and `$2y$` (PHP's name for the same fixed
 * algorithm). Like every bcrypt, it reads only the first 72 bytes of a password.
 */
export const bcryptFormat: HashFormat = {
  name: 'bcrypt',
  recognizes: (hash) => hash.startsWith('$2'),

  problem(hash) {
    const match = SHAPE.exec(hash);
    if (!match) return 'expected $2a$, $2b$ or $2y$, a two-digit cost and 53 characters of salt and hash';
    const cost = Number(match[1]);
    return cost >= 4 && cost <= MAX_COST ? null : `the bcrypt cost must be between 04 and ${MAX_COST}`;
  },

  verify: (hash, password) => bcrypt.compare(password, hash),
};
