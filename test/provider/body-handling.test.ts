import { jest } from '@jest/globals';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';

// oidc-provider parses the bodies of its endpoints itself; Latch rewrites a JWT access token into its
// reference at introspection, revocation and userinfo, and must hand the rewritten body on unparsed.
let running: RunningLatch;
let app: Awaited<ReturnType<typeof registerClient>>;
let accessToken: string;
const warnings: string[] = [];

beforeAll(async () => {
  jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    warnings.push(args.map(String).join(' '));
  });
  running = await startLatch();
  app = await registerClient(running.latch, { client_name: 'App', redirect_uris: ['http://127.0.0.1:9/callback'], grant_types: ['authorization_code', 'refresh_token'] });
  const user = await createUser(running);
  ({ access_token: accessToken } = (await signIn(await relyingParty(running, app), user, { params: { prompt: 'consent' } })).tokens);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await running?.stop();
});

it('reads the rewritten form at introspection, userinfo and revocation without an upstream-parser warning', async () => {
  const introspection = await running.http().post('/token/introspection').auth(app.client_id, app.client_secret as string).type('form').send({ token: accessToken }).expect(200);
  expect(introspection.body).toMatchObject({ active: true, client_id: app.client_id });

  const userinfo = await running.http().post('/me').type('form').send({ access_token: accessToken }).expect(200);
  expect(userinfo.body.sub).toEqual(expect.any(String));

  await running.http().post('/token/revocation').auth(app.client_id, app.client_secret as string).type('form').send({ token: accessToken }).expect(200);
  const after = await running.http().post('/token/introspection').auth(app.client_id, app.client_secret as string).type('form').send({ token: accessToken }).expect(200);
  expect(after.body).toEqual({ active: false });

  expect(warnings.filter((line) => line.includes('already parsed'))).toEqual([]);
});
