import * as oidc from 'openid-client';
import supertest from 'supertest';
import { INITIAL_ACCESS_TOKEN, startReplicas, type Replicas } from '../support/replicas.js';
import { signIn } from '../support/sign-in.js';

const USERS = 6;
const REFRESHES = 4;

/**
 * Stateless replicas on a shared PostgreSQL: three Latch processes take round-robin traffic from
 * several users at once (sign-in, token refresh with rotation, introspection, client credentials),
 * and every response is the one a single process would give.
 */
describe('scale-out: three Latch processes behind a round-robin proxy', () => {
  let replicas: Replicas;

  beforeAll(async () => {
    replicas = await startReplicas(3);
  });

  afterAll(async () => {
    await replicas?.stop();
  });

  it('serves concurrent full flows and refresh rotation consistently, with no error', async () => {
    const { issuer } = replicas;
    const redirectUri = 'http://127.0.0.1:9/callback';
    const registration = await supertest(issuer)
      .post('/reg')
      .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
      .send({ redirect_uris: [redirectUri], grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], client_name: 'Scaled' });
    expect(registration.status).toBe(201);
    const configuration = await oidc.discovery(
      new URL(issuer),
      registration.body.client_id,
      { redirect_uris: [redirectUri] },
      oidc.ClientSecretBasic(registration.body.client_secret),
      { execute: [oidc.allowInsecureRequests] },
    );

    const flows = Array.from({ length: USERS }, async (_, index) => {
      const user = { email: `scaled-${index}@example.com`, password: 'correct horse battery staple' };
      await supertest(issuer).post('/api/v1/users').send(user).expect(201);
      const { tokens } = await signIn(configuration, user, { params: { prompt: 'consent' } });
      let refreshToken = tokens.refresh_token as string;
      const subject = tokens.claims()?.sub;
      for (let round = 0; round < REFRESHES; round += 1) {
        const refreshed = await oidc.refreshTokenGrant(configuration, refreshToken);
        expect(refreshed.refresh_token).not.toBe(refreshToken);
        expect(refreshed.claims()?.sub).toBe(subject);
        refreshToken = refreshed.refresh_token as string;
        expect(await oidc.tokenIntrospection(configuration, refreshed.access_token)).toMatchObject({ active: true, sub: subject });
      }
      const machine = await oidc.clientCredentialsGrant(configuration);
      expect(await oidc.tokenIntrospection(configuration, machine.access_token)).toMatchObject({ active: true });
    });
    await Promise.all(flows);

    const counts = replicas.proxy.counts;
    const total = counts.reduce((sum, count) => sum + count, 0);
    expect(total).toBeGreaterThan(USERS * (REFRESHES * 2 + 6));
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(Math.floor(total / 3) - 1);
    for (const process of replicas.processes) expect(process.stdout()).not.toMatch(/"level":50/);
  });
});
