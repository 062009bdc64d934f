import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { registerClient } from '../support/clients.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';

const INITIAL_ACCESS_TOKEN = 'initial-access-token-0123456789-abcdefghijklmnop';
let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch({ LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
});

afterAll(async () => {
  await running.stop();
});

const apiResource = () => `${running.baseUrl}/api/v1`;

describe('discovery and keys', () => {
  it('publishes an OpenID Connect discovery document for what Latch supports, and nothing else', async () => {
    const response = await running.http().get('/.well-known/openid-configuration').expect(200);
    const metadata = response.body;

    expect(metadata).toMatchObject({
      issuer: running.baseUrl,
      authorization_endpoint: `${running.baseUrl}/auth`,
      token_endpoint: `${running.baseUrl}/token`,
      userinfo_endpoint: `${running.baseUrl}/me`,
      jwks_uri: `${running.baseUrl}/jwks`,
      introspection_endpoint: `${running.baseUrl}/token/introspection`,
      revocation_endpoint: `${running.baseUrl}/token/revocation`,
      end_session_endpoint: `${running.baseUrl}/session/end`,
      registration_endpoint: `${running.baseUrl}/reg`,
      pushed_authorization_request_endpoint: `${running.baseUrl}/request`,
      authorization_response_iss_parameter_supported: true,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
    });
    expect(metadata.grant_types_supported.sort()).toEqual(['authorization_code', 'client_credentials', 'refresh_token']);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'offline_access', 'email', 'profile', 'phone']));
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'email_verified', 'name', 'given_name', 'updated_at']));
    expect(metadata.id_token_signing_alg_values_supported.sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect(metadata.response_types_supported).not.toContain('token');
    expect(response.headers['cache-control']).toBe('public, max-age=300');
  });

  it('answers discovery and the JWKS from memory exactly as the provider answered them first', async () => {
    // Request ids and dates differ by request; everything else the client sees must not.
    const seen = ({ headers, text }: { headers: Record<string, string>; text: string }) => {
      const { 'x-request-id': requestId, date, ...rest } = headers;
      expect(requestId).toEqual(expect.any(String));
      expect(date).toEqual(expect.any(String));
      return { headers: rest, text };
    };
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const first = seen(await running.http().get(path).expect(200));
      expect(first.headers['content-type']).toMatch(/^application\/(jwk-set\+)?json; charset=utf-8$/);
      expect(first.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'cache-control': 'public, max-age=300' });
      for (let again = 0; again < 2; again += 1) expect(seen(await running.http().get(path).expect(200))).toEqual(first);
      // A cross-origin read still gets the provider's CORS answer, and the same document.
      const crossOrigin = await running.http().get(path).set('Origin', 'https://app.example.com').expect(200);
      expect(crossOrigin.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(crossOrigin.text).toBe(first.text);
    }
  });

  it('publishes one public key per algorithm, with no private member', async () => {
    const { body } = await running.http().get('/jwks').expect(200);

    expect(body.keys.map((key: { alg: string }) => key.alg).sort()).toEqual(['ES256', 'EdDSA', 'RS256']);
    expect((await running.http().get('/jwks')).headers['cache-control']).toBe('public, max-age=300');
    for (const key of body.keys) {
      expect(key.kid).toEqual(expect.any(String));
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(member);
    }
  });
});

describe('client credentials', () => {
  it('issues an RFC 9068 JWT access token that verifies offline against the JWKS by issuer and audience', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const configuration = await oidc.discovery(new URL(running.baseUrl), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });

    const tokens = await oidc.clientCredentialsGrant(configuration);

    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'RS256' });
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${running.baseUrl}/jwks`)), {
      issuer: running.baseUrl,
      audience: apiResource(),
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({ client_id: client.client_id, sub: client.client_id, jti: expect.any(String) });
  });

  it('refuses a wrong client secret with invalid_client', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const response = await running
      .http()
      .post('/token')
      .auth(client.client_id, 'not-the-secret')
      .type('form')
      .send({ grant_type: 'client_credentials' });

    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_client');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers invalid_target for a resource server Latch does not know', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const response = await running
      .http()
      .post('/token')
      .auth(client.client_id, client.client_secret as string)
      .type('form')
      .send({ grant_type: 'client_credentials', resource: 'https://elsewhere.example.com' });

    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_target');
  });

  it('introspects the JWT access token as active, then inactive once revoked', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const configuration = await oidc.discovery(new URL(running.baseUrl), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const { access_token: token } = await oidc.clientCredentialsGrant(configuration);
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${running.baseUrl}/jwks`)));

    const active = await oidc.tokenIntrospection(configuration, token);
    expect(active).toMatchObject({ active: true, client_id: client.client_id, jti: payload.jti, aud: apiResource(), token_type: 'Bearer' });

    await oidc.tokenRevocation(configuration, token);

    expect(await oidc.tokenIntrospection(configuration, token)).toEqual({ active: false });
  });

  it('answers inactive for a tampered or foreign token, and for the reference of a token given raw', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
    const configuration = await oidc.discovery(new URL(running.baseUrl), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const { access_token: token } = await oidc.clientCredentialsGrant(configuration);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), client_id: 'someone-else' })).toString('base64url')}.${signature}`;

    expect(await oidc.tokenIntrospection(configuration, tampered)).toEqual({ active: false });
    expect(await oidc.tokenIntrospection(configuration, 'not-a-token-at-all')).toEqual({ active: false });
    const [row] = await query<{ id: string }>(running.databaseUrl, `SELECT id FROM oidc_payloads WHERE model = 'ClientCredentials'`);
    expect(row).toBeDefined();
    expect(await oidc.tokenIntrospection(configuration, row?.id as string)).toEqual({ active: false });
  });
});

describe('dynamic client registration (RFC 7591/7592)', () => {
  const metadata = { redirect_uris: ['https://app.example.com/callback'], client_name: 'Registered App' };

  it('requires the initial access token', async () => {
    const response = await running.http().post('/reg').send(metadata);
    expect(response.status).toBe(401);
    expect(response.body.error).toBe('invalid_token');
  });

  it('registers, reads, updates and deletes a client with its registration access token', async () => {
    const registered = await running.http().post('/reg').set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`).send(metadata);
    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({
      client_id: expect.any(String),
      client_secret: expect.any(String),
      registration_access_token: expect.any(String),
      registration_client_uri: expect.stringContaining('/reg/'),
      client_name: 'Registered App',
    });
    const clientUri = new URL(registered.body.registration_client_uri).pathname;
    const bearer = `Bearer ${registered.body.registration_access_token}`;

    const read = await running.http().get(clientUri).set('Authorization', bearer).expect(200);
    expect(read.body.client_id).toBe(registered.body.client_id);

    const updated = await running
      .http()
      .put(clientUri)
      .set('Authorization', bearer)
      .send({ ...metadata, client_id: registered.body.client_id, client_secret: registered.body.client_secret, client_name: 'Renamed App' });
    expect(updated.status).toBe(200);
    expect(updated.body.client_name).toBe('Renamed App');

    await running.http().delete(clientUri).set('Authorization', `Bearer ${updated.body.registration_access_token}`).expect(204);
    await running.http().get(clientUri).set('Authorization', `Bearer ${updated.body.registration_access_token}`).expect(401);
  });

  it('refuses invalid metadata and a self-declared first-party client', async () => {
    const bearer = `Bearer ${INITIAL_ACCESS_TOKEN}`;
    const invalid = await running.http().post('/reg').set('Authorization', bearer).send({ redirect_uris: ['not a url'] });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toBe('invalid_redirect_uri');

    const firstParty = await running.http().post('/reg').set('Authorization', bearer).send({ ...metadata, first_party: true });
    expect(firstParty.status).toBe(400);
    expect(firstParty.body).toMatchObject({ error: 'invalid_client_metadata', error_description: expect.stringContaining('first_party') });
  });
});

describe('authorization requests Latch must refuse', () => {
  it('shows an error page, not a redirect, for a redirect_uri that is not registered', async () => {
    const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'] });
    const response = await running.http().get('/auth').query({
      client_id: client.client_id,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'https://evil.example.com/callback',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    });

    expect(response.status).toBe(400);
    expect(response.headers.location).toBeUndefined();
    expect(response.text).toContain('redirect_uri');
  });

  it.each([
    ['a public client without PKCE', { token_endpoint_auth_method: 'none' }, {}, 'invalid_request'],
    ['a plain PKCE challenge', { token_endpoint_auth_method: 'none' }, { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
    ['the implicit flow', {}, { response_type: 'token' }, 'unsupported_response_type'],
    ['the hybrid flow', {}, { response_type: 'code id_token', nonce: 'n' }, 'unsupported_response_type'],
    ['a scope outside the client\'s registered scopes', { scope: 'openid email' }, { scope: 'openid email phone' }, 'invalid_scope'],
  ] as const)('redirects back with an error for %s', async (_case, clientMetadata, params, error) => {
    const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], ...clientMetadata });
    const response = await running
      .http()
      .get('/auth')
      .query({ client_id: client.client_id, response_type: 'code', scope: 'openid', redirect_uri: 'https://app.example.com/callback', state: 'abc', ...params });

    expect(response.status).toBe(303);
    const location = new URL(response.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://app.example.com/callback');
    const returned = Object.fromEntries(location.hash ? new URLSearchParams(location.hash.slice(1)) : location.searchParams);
    expect(returned).toMatchObject({ error, state: 'abc', iss: running.baseUrl });
  });

  it('refuses the password grant and an unknown grant type', async () => {
    const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'] });
    for (const grantType of ['password', 'urn:example:unknown']) {
      const response = await running
        .http()
        .post('/token')
        .auth(client.client_id, client.client_secret as string)
        .type('form')
        .send({ grant_type: grantType, username: 'a', password: 'b' });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('unsupported_grant_type');
    }
  });

  // OpenID Connect Core §3.1.2.1: scope values that are not understood are ignored; a scope Latch
  // knows but the client is not registered for is refused (RFC 6749 §5.2 invalid_scope).
  it('ignores an unknown scope and refuses one the client is not registered for', async () => {
    const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'openid' });
    const request = (scope: string) =>
      running.http().post('/token').auth(client.client_id, client.client_secret as string).type('form').send({ grant_type: 'client_credentials', scope });

    const unknown = await request('launch-the-missiles');
    expect(unknown.status).toBe(200);
    expect(unknown.body.scope).toBeUndefined();

    const notAllowed = await request('email');
    expect(notAllowed.status).toBe(400);
    expect(notAllowed.body.error).toBe('invalid_scope');
  });
});
