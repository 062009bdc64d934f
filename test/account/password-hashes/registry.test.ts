import { fromFirebaseExport } from '../../../src/account/password-hashes/firebase-scrypt.js';
import { hashFormatOf, hashProblem, verifyAnyHash } from '../../../src/account/password-hashes/registry.js';
import { FIREBASE_VECTOR, foreignHashes } from '../../support/foreign-hashes.js';

const password = 'correct horse battery staple';

describe('foreign password hashes', () => {
  let hashes: Record<string, string>;

  beforeAll(async () => {
    hashes = await foreignHashes(password);
  });

  it('accepts each format as made by its reference tool, verifies the right password and refuses a wrong one', async () => {
    for (const [label, hash] of Object.entries(hashes)) {
      expect({ label, problem: hashProblem(hash) }).toEqual({ label, problem: null });
      expect({ label, valid: await verifyAnyHash(hash, password) }).toEqual({ label, valid: true });
      expect({ label, valid: await verifyAnyHash(hash, 'correct horse battery stapler') }).toEqual({ label, valid: false });
    }
  });

  it("verifies firebase/scrypt's public test vector, stored as one string", async () => {
    const stored = fromFirebaseExport(FIREBASE_VECTOR.export);
    if (!stored.ok) throw new Error(stored.problem);

    expect(stored.value).toMatch(/^\$firebase-scrypt\$ln=14,r=8,ss=Bw,sk=jxspr8/);
    expect(hashFormatOf(stored.value)?.name).toBe('firebase-scrypt');
    expect(await verifyAnyHash(stored.value, FIREBASE_VECTOR.password)).toBe(true);
    expect(await verifyAnyHash(stored.value, 'user2password')).toBe(false);
  });

  it('refuses a Firebase export whose parts are not base64 or whose cost is out of bounds', () => {
    expect(fromFirebaseExport({ ...FIREBASE_VECTOR.export, signer_key: 'not base64!' })).toEqual({ ok: false, problem: 'signer_key must be base64' });
    expect(fromFirebaseExport({ ...FIREBASE_VECTOR.export, memory_cost: 40 })).toEqual({ ok: false, problem: 'ln must be between 1 and 24' });
  });

  it.each([
    ['an unknown scheme', '$md5$abc$def', /^unsupported password hash format/],
    ['plain text', 'hunter22', /^unsupported password hash format/],
    ['a truncated bcrypt', '$2b$10$abcdef', /^invalid bcrypt hash: expected/],
    ['a bcrypt too costly to verify', `$2b$20$${'a'.repeat(53)}`, /^invalid bcrypt hash: the bcrypt cost must be between 04 and 16/],
    ['an argon2 needing 4 GiB', '$argon2id$v=19$m=4194304,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', /^invalid argon2 hash: m must be between/],
    ['an argon2 with an unknown version', '$argon2id$v=7$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', /^invalid argon2 hash: the argon2 version/],
    ['a scrypt needing more than 256 MiB', '$scrypt$ln=20,r=8,p=1$c2FsdA$aGFzaA', /^invalid scrypt hash: the scrypt parameters need more than 256 MiB/],
    ['a scrypt without p', '$scrypt$ln=10,r=8$c2FsdA$aGFzaA', /^invalid scrypt hash: the scrypt parameters must be ln, r and p/],
    ['a pbkdf2 with no iterations', '$pbkdf2-sha256$i=0$c2FsdA$aGFzaA', /^invalid pbkdf2 hash: the iteration count must be between 1 and/],
    ['a pbkdf2 hash that is not base64', '$pbkdf2-sha256$i=1000$c2FsdA$not*base64', /^invalid pbkdf2 hash: the salt and the hash must be base64/],
    ['a Django hash of another algorithm', 'pbkdf2_sha1$1000$salt$aGFzaA==', /^unsupported password hash format/],
  ])('refuses %s with a reason', async (_label, hash, reason) => {
    expect(hashProblem(hash)).toMatch(reason);
    expect(await verifyAnyHash(hash, password)).toBe(false);
  });
});
