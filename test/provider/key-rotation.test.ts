import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';

let running: RunningLatch;

beforeAll(async () => {
  // A short re-read interval stands for "within a minute" in production.
  running = await startLatch({}, { keyWatchIntervalMs: 200 });
});

afterAll(async () => {
  await running.stop();
});

async function jwks(): Promise<JSONWebKeySet> {
  return (await running.http().get('/jwks').expect(200)).body;
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('signing key rotation in a running Latch', () => {
  it('publishes the new key first, signs with it once active, and keeps verifying tokens of the old one', async () => {
    const user = await createUser(running);
    const client = await registerClient(running.latch, { redirect_uris: ['http://127.0.0.1:9/callback'], first_party: true });
    const configuration = await relyingParty(running, client);

    const before = await signIn(configuration, user, { scope: 'openid' });
    const oldKid = decodeProtectedHeader(before.tokens.id_token as string).kid;
    const oldKeys = await jwks();

    // Staged: published now, signing in an hour. No restart, no request to the process.
    const staged = await running.latch.signingKeys.rotate({ publishFor: 3600 });
    const newRsaKid = staged.created.find((key) => key.alg === 'RS256')?.kid;
    await until(async () => (await jwks()).keys.some((key) => key.kid === newRsaKid));
    expect((await jwks()).keys).toHaveLength(oldKeys.keys.length * 2);
    const stillOld = await signIn(configuration, user, { scope: 'openid' });
    expect(decodeProtectedHeader(stillOld.tokens.id_token as string).kid).toBe(oldKid);

    // An emergency rotation: the newest keys sign at once; the process picks them up by itself.
    const immediate = await running.latch.signingKeys.rotate({ publishFor: 0 });
    const signer = immediate.created.find((key) => key.alg === 'RS256')?.kid;
    await until(async () => decodeProtectedHeader((await signIn(configuration, user, { scope: 'openid' })).tokens.id_token as string).kid === signer);

    // The old key is still published: its tokens verify until they expire.
    const published = createLocalJWKSet(await jwks());
    await expect(jwtVerify(before.tokens.id_token as string, published, { issuer: running.baseUrl })).resolves.toBeDefined();
    await expect(jwtVerify(before.tokens.access_token, published, { issuer: running.baseUrl, typ: 'at+jwt' })).resolves.toBeDefined();
  });
});
