import argon2 from 'argon2';
import type { HashFormat } from './format.js';
import { decodeBase64, integerParameters, outOfRange } from './phc.js';

const PREFIX = /^\$argon2(id|i|d)\$/;
// Bounds on what an imported hash may cost per sign-in: far above any sane deployment (argon2's
// own default is 64 MiB, t=3), low enough that one hash cannot exhaust the machine.
const MAX_MEMORY_KIB = 262_144;
const MAX_TIME_COST = 32;
const MAX_PARALLELISM = 16;

/** argon2i, argon2d and argon2id with any parameters, in PHC form (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`). */
export const argon2Format: HashFormat = {
  name: 'argon2',
  recognizes: (hash) => PREFIX.test(hash),

  problem(hash) {
    const parts = hash.split('$');
    // The version segment is optional: argon2 1.0 hashes (v=16) were written without it.
    const [, , ...rest] = parts;
    const segments = rest[0]?.startsWith('v=') ? rest.slice(1) : rest;
    if (rest[0]?.startsWith('v=') && !/^v=(16|19)$/.test(rest[0])) return 'the argon2 version must be v=16 or v=19';
    if (segments.length !== 3) return 'expected $argon2<variant>$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>';
    const [parameters = '', salt = '', digest = ''] = segments;
    const values = integerParameters(parameters);
    if (!values || ![...values.keys()].every((key) => ['m', 't', 'p'].includes(key))) return 'the argon2 parameters must be m, t and p';
    const bounds =
      outOfRange('p', values.get('p'), 1, MAX_PARALLELISM) ??
      outOfRange('m', values.get('m'), 8 * (values.get('p') ?? 1), MAX_MEMORY_KIB) ??
      outOfRange('t', values.get('t'), 1, MAX_TIME_COST);
    if (bounds) return bounds;
    if (!decodeBase64(salt) || !decodeBase64(digest)) return 'the salt and the hash must be base64';
    return null;
  },

  verify: (hash, password) => argon2.verify(hash, password),
};
