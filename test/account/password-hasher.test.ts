import argon2 from 'argon2';
import { createPasswordHasher } from '../../src/account/password-hasher.js';
import { NO_PASSWORD } from '../../src/account/password-hashes/registry.js';
import bcrypt from 'bcryptjs';
import { medianMilliseconds } from './timing.js';

// Far below production cost, to keep the suite fast; what matters here is that the parameters are honoured.
const light = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

describe('password hasher', () => {
  const hasher = createPasswordHasher(light);

  it('hashes with argon2id and the configured parameters, salted', async () => {
    const first = await hasher.hash('correct horse battery staple');
    const second = await hasher.hash('correct horse battery staple');
    expect(first).toMatch(/^\$argon2id\$v=19\$m=8192,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(second).not.toBe(first);
  });

  it('verifies hashes in the parameter order node-argon2 writes itself', async () => {
    const libraryHash = await argon2.hash('correct horse battery staple', { ...light, type: argon2.argon2id });
    expect(libraryHash).toContain('m=8192,p=1,t=1');
    await expect(hasher.verify(libraryHash, 'correct horse battery staple')).resolves.toEqual({ valid: true, needsRehash: false });
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    await expect(hasher.verify(hash, 'correct horse battery staple')).resolves.toEqual({ valid: true, needsRehash: false });
    await expect(hasher.verify(hash, 'correct horse battery stapler')).resolves.toEqual({ valid: false, needsRehash: false });
  });

  it('asks for a rehash once the configured parameters change', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    const stronger = createPasswordHasher({ ...light, timeCost: 2 });
    await expect(stronger.verify(hash, 'correct horse battery staple')).resolves.toEqual({ valid: true, needsRehash: true });
    await expect(stronger.verify(hash, 'wrong')).resolves.toEqual({ valid: false, needsRehash: false });
    expect(await stronger.hash('correct horse battery staple')).toMatch(/^\$argon2id\$v=19\$m=8192,t=2,p=1\$/);
  });

  it('asks for a rehash of a hash made with another argon2 variant, even with the same parameters', async () => {
    const argon2iHash = await argon2.hash('correct horse battery staple', { ...light, type: argon2.argon2i });
    await expect(hasher.verify(argon2iHash, 'correct horse battery staple')).resolves.toEqual({ valid: true, needsRehash: true });
  });

  it('verifies an imported hash of another algorithm and asks for its rehash', async () => {
    const imported = bcrypt.hashSync('correct horse battery staple', 4);
    await expect(hasher.verify(imported, 'correct horse battery staple')).resolves.toEqual({ valid: true, needsRehash: true });
    await expect(hasher.verify(imported, 'wrong')).resolves.toEqual({ valid: false, needsRehash: false });
  });

  it('matches no password for an account imported without one, at the cost of a real verification', async () => {
    await expect(hasher.verify(NO_PASSWORD, '!')).resolves.toEqual({ valid: false, needsRehash: false });
    const hash = await hasher.hash('correct horse battery staple');
    const real = await medianMilliseconds(() => hasher.verify(hash, 'wrong password'));
    const none = await medianMilliseconds(() => hasher.verify(NO_PASSWORD, 'wrong password'));
    expect(none / real).toBeGreaterThan(0.5);
    expect(none / real).toBeLessThan(2);
  });

  it('spends as long on a dummy verification as on a real one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    await expect(hasher.verifyDummy('anything')).resolves.toBeUndefined();
    const real = await medianMilliseconds(() => hasher.verify(hash, 'wrong password'));
    const dummy = await medianMilliseconds(() => hasher.verifyDummy('wrong password'));
    // Loose on purpose: it fails when the dummy hash uses other parameters (argon2's defaults cost ~25x these), not on noise.
    expect(dummy / real).toBeGreaterThan(0.5);
    expect(dummy / real).toBeLessThan(2);
  });
});
