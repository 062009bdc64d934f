import type * as oidc from 'openid-client';
import { fromFirebaseExport } from '../../src/account/password-hashes/firebase-scrypt.js';
import { registerClient } from '../support/clients.js';
import { FIREBASE_VECTOR, foreignHashes } from '../support/foreign-hashes.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';
import { query } from '../support/sql.js';

const password = 'correct horse battery staple';
// Latch's argon2id as the test environment configures it (test/support/latch.ts).
const LATCH_HASH = /^\$argon2id\$v=19\$m=8192,t=1,p=1\$/;

let running: RunningLatch;
let app: oidc.Configuration;

beforeAll(async () => {
  running = await startLatch();
  app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
});

afterAll(async () => {
  await running?.stop();
});

const storedHash = async (id: string) => (await query<{ password_hash: string }>(running.databaseUrl, 'select password_hash from users where id = $1', [id]))[0]?.password_hash;

/** A user as an import leaves it: the hash another system made, untouched until the user's first sign-in. */
async function userWithHash(hash: string, userPassword = password) {
  const user = await createUser(running, { password: userPassword });
  await query(running.databaseUrl, 'update users set password_hash = $2 where id = $1', [user.id, hash]);
  return user;
}

async function expectUpgradedOnSignIn(hash: string, userPassword: string, format: string) {
  const wrong = await userWithHash(hash, userPassword);
  await expect(signIn(app, { email: wrong.email, password: `${userPassword}!` })).rejects.toThrow(/did not reach the redirect URI/);
  expect(await storedHash(wrong.id)).toBe(hash);

  const user = await userWithHash(hash, userPassword);
  const { tokens } = await signIn(app, user);
  expect(tokens.claims()?.sub).toBe(user.id);

  const upgraded = await storedHash(user.id);
  expect(upgraded).toMatch(LATCH_HASH);
  const events = await query<{ details: { from: string } }>(running.databaseUrl, "select details from audit_events where event = 'account.password_rehashed' and subject_id = $1", [user.id]);
  expect(events.map((event) => event.details)).toEqual([{ from: format }]);

  // The new hash is the one that counts from now on, and it needs no further upgrade.
  await signIn(app, user);
  expect(await storedHash(user.id)).toBe(upgraded);
}

describe('signing in with a password hash made by another system', () => {
  it.each([
    ['argon2id (other parameters)', 'argon2'],
    ['argon2i', 'argon2'],
    ['argon2d', 'argon2'],
    ['bcrypt $2a$', 'bcrypt'],
    ['bcrypt $2b$', 'bcrypt'],
    ['bcrypt $2y$', 'bcrypt'],
    ['scrypt', 'scrypt'],
    ['pbkdf2-sha256', 'pbkdf2'],
    ['pbkdf2-sha512 (passlib)', 'pbkdf2'],
    ['django pbkdf2_sha256', 'django-pbkdf2'],
  ])('%s: a wrong password fails, the right one signs in and the hash becomes Latch argon2id', async (label, format) => {
    const hash = (await foreignHashes(password))[label] as string;
    await expectUpgradedOnSignIn(hash, password, format);
  });

  it("Firebase's modified scrypt (the firebase/scrypt test vector)", async () => {
    const stored = fromFirebaseExport(FIREBASE_VECTOR.export);
    if (!stored.ok) throw new Error(stored.problem);
    await expectUpgradedOnSignIn(stored.value, FIREBASE_VECTOR.password, 'firebase-scrypt');
  });

  it('never writes a password or a hash to the logs', () => {
    expect(running.logs()).toContain('account.password_rehashed');
    for (const secret of [password, FIREBASE_VECTOR.password, '$2b$', '$scrypt$', 'pbkdf2_sha256$', FIREBASE_VECTOR.export.signer_key.slice(0, 20)]) {
      expect(running.logs()).not.toContain(secret);
    }
  });
});
