import type { Server } from 'node:http';
import supertest from 'supertest';
import { startMetricsServer } from '../../src/metrics/metrics-server.js';
import { registerClient } from '../support/clients.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';
import { findFreePort } from '../support/free-port.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';

let running: RunningLatch;
let metricsServer: Server;
let metricsUrl: string;

beforeAll(async () => {
  running = await startLatch();
  const port = await findFreePort();
  metricsServer = await startMetricsServer(running.latch.metrics.registry, { host: '127.0.0.1', port });
  metricsUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  metricsServer.close();
  await running.stop();
});

describe('health', () => {
  it('answers /healthz and /readyz when the database is migrated and keys are loaded', async () => {
    expect((await running.http().get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    const ready = await running.http().get('/readyz').expect(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', signing_keys: 'ok' } });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  it('is not ready while a migration this build ships is missing from the database', async () => {
    const [latest] = await query<{ migration_name: string }>(running.databaseUrl, 'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name DESC LIMIT 1');
    await query(running.databaseUrl, 'UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1', [latest?.migration_name]);
    try {
      // Readiness is cached for a second so that probes stay cheap.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const response = await running.http().get('/readyz').expect(503);
      expect(response.body).toEqual({ status: 'unavailable', checks: { database: `migrations pending: ${latest?.migration_name}`, signing_keys: 'ok' } });
    } finally {
      await query(running.databaseUrl, 'UPDATE _prisma_migrations SET rolled_back_at = NULL WHERE migration_name = $1', [latest?.migration_name]);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await running.http().get('/readyz').expect(200);
  });
});

describe('metrics', () => {
  it('are served on their own listener, not on the public one', async () => {
    await running.http().get('/metrics').expect(404);
    await supertest(metricsUrl).get('/anything-else').expect(404);
  });

  it('show request durations by route, tokens by grant type, the pool and the event loop after a flow', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    await running.http().post('/token').auth(client.client_id, client.client_secret as string).type('form').send({ grant_type: 'client_credentials' }).expect(200);
    await running.http().post('/api/v1/users').send({ email: 'metrics@example.com', password: 'correct horse battery staple' }).expect(201);

    const { text, headers } = await supertest(metricsUrl).get('/metrics').expect(200);

    expect(headers['content-type']).toContain('text/plain');
    expect(text).toMatch(/latch_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/token",status="200"\} [1-9]/);
    expect(text).toMatch(/latch_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/users",status="201"\} 1/);
    expect(text).toContain('latch_tokens_issued_total{grant_type="client_credentials"} 1');
    expect(text).toContain('latch_db_pool_connections{state="max"} 10');
    expect(text).toMatch(/latch_db_pool_connections\{state="total"\} [1-9]/);
    expect(text).toMatch(/latch_nodejs_eventloop_lag_seconds [0-9.e-]+/);
    expect(text).toContain('# TYPE latch_sign_ins_total counter');
  });
});

describe('after a sign-in flow', () => {
  it('counts the sign-in, logs one line per request with its route, client and a user pseudonym, and audits', async () => {
    const user = await createUser(running);
    const client = await registerClient(running.latch, { redirect_uris: ['http://127.0.0.1:9/callback'] });
    const configuration = await relyingParty(running, client);
    const { tokens } = await signIn(configuration, user, { params: { prompt: 'consent' } });
    await running.http().post('/token/revocation').auth(client.client_id, client.client_secret as string).type('form').send({ token: tokens.refresh_token });

    const { text } = await supertest(metricsUrl).get('/metrics').expect(200);
    expect(text).toContain('latch_sign_ins_total{outcome="succeeded"} 1');
    expect(text).toContain('latch_tokens_issued_total{grant_type="authorization_code"} 1');

    const lines = running
      .logs()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const tokenRequest = lines.find((line) => line.msg === 'request' && line.route === '/token' && line.clientId === client.client_id);
    expect(tokenRequest).toMatchObject({ method: 'POST', status: 200, requestId: expect.any(String), durationMs: expect.any(Number), user: expect.stringMatching(/^[\w-]{16}$/) });
    // Request lines carry a pseudonym, never the id itself.
    for (const line of lines.filter((entry) => entry.msg === 'request')) expect(line.user).not.toBe(user.id);
    const events = lines.map((line) => line.event).filter(Boolean);
    expect(events).toEqual(expect.arrayContaining(['interaction.signed_in', 'interaction.consent_given', 'grant.revoked']));
  });
});

describe('security headers', () => {
  it('forbid framing and sniffing everywhere, and keep token responses out of caches', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const token = await running.http().post('/token').auth(client.client_id, client.client_secret as string).type('form').send({ grant_type: 'client_credentials' });

    for (const response of [token, await running.http().get('/.well-known/openid-configuration'), await running.http().get('/healthz')]) {
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(token.headers['cache-control']).toBe('no-store');
    // HSTS only in production over TLS.
    expect(token.headers['strict-transport-security']).toBeUndefined();
  });

  it('add HSTS in production when the request came over TLS through a trusted proxy', async () => {
    const production = await startLatch({ NODE_ENV: 'production', TRUST_PROXY: '1' });
    try {
      const overTls = await production.http().get('/healthz').set('X-Forwarded-Proto', 'https').expect(200);
      expect(overTls.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      const plain = await production.http().get('/healthz').expect(200);
      expect(plain.headers['strict-transport-security']).toBeUndefined();
    } finally {
      await production.stop();
    }
  });

  it('allow cross-origin reads of discovery and JWKS, and the token endpoint only for a public client\'s own origin', async () => {
    const origin = 'https://spa.example.com';
    const discovery = await running.http().get('/.well-known/openid-configuration').set('Origin', origin);
    expect(discovery.headers['access-control-allow-origin']).toBe(origin);
    const jwks = await running.http().get('/jwks').set('Origin', 'https://any.example.org');
    expect(jwks.headers['access-control-allow-origin']).toBe('https://any.example.org');

    const spa = await registerClient(running.latch, { token_endpoint_auth_method: 'none', redirect_uris: [`${origin}/callback`] });
    const confidential = await registerClient(running.latch, { redirect_uris: [`${origin}/callback`] });
    const preflight = (clientOrigin: string) =>
      running.http().options('/token').set('Origin', clientOrigin).set('Access-Control-Request-Method', 'POST');
    expect((await preflight(origin)).headers['access-control-allow-origin']).toBe(origin);

    const fromSpa = await running.http().post('/token').set('Origin', origin).type('form').send({ grant_type: 'authorization_code', code: 'x', client_id: spa.client_id, code_verifier: 'v'.repeat(43), redirect_uri: `${origin}/callback` });
    expect(fromSpa.headers['access-control-allow-origin']).toBe(origin);
    const fromElsewhere = await running.http().post('/token').set('Origin', 'https://evil.example.com').type('form').send({ grant_type: 'authorization_code', code: 'x', client_id: spa.client_id, code_verifier: 'v'.repeat(43), redirect_uri: `${origin}/callback` });
    expect(fromElsewhere.headers['access-control-allow-origin']).toBeUndefined();
    const fromConfidential = await running.http().post('/token').set('Origin', origin).auth(confidential.client_id, confidential.client_secret as string).type('form').send({ grant_type: 'client_credentials' });
    expect(fromConfidential.headers['access-control-allow-origin']).toBeUndefined();
  });
});
