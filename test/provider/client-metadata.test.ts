import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startLatch, type RunningLatch } from '../support/latch.js';

const INITIAL_ACCESS_TOKEN = 'initial-access-token-0123456789-abcdefghijklmnop';
const WEB_APP = { client_name: 'Web App', redirect_uris: ['https://app.example.com/callback'] };

function register(running: RunningLatch, metadata: Record<string, unknown>) {
  return running.http().post('/reg').set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`).send(metadata);
}

/** Registers a client, then updates it through RFC 7592 with `update`; answers the update. */
async function registerThenUpdate(running: RunningLatch, update: Record<string, unknown>) {
  const registered = await register(running, WEB_APP);
  expect(registered.status).toBe(201);
  const { client_id, client_secret, registration_access_token, registration_client_uri } = registered.body;
  return running
    .http()
    .put(new URL(registration_client_uri).pathname)
    .set('Authorization', `Bearer ${registration_access_token}`)
    .send({ ...WEB_APP, client_id, client_secret, ...update });
}

describe('client metadata of features Latch leaves off', () => {
  let running: RunningLatch;

  beforeAll(async () => {
    running = await startLatch({ LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
  });

  afterAll(async () => {
    await running?.stop();
  });

  // Every field oidc-provider knows but drops while its feature is off, each with a value a client would send.
  it.each<[string, unknown]>([
    ['backchannel_logout_uri', 'https://app.example.com/logout'],
    ['backchannel_logout_session_required', true],
    ['id_token_encrypted_response_alg', 'RSA-OAEP-256'],
    ['id_token_encrypted_response_enc', 'A256GCM'],
    ['userinfo_signed_response_alg', 'RS256'],
    ['userinfo_encrypted_response_alg', 'RSA-OAEP-256'],
    ['userinfo_encrypted_response_enc', 'A256GCM'],
    ['introspection_signed_response_alg', 'RS256'],
    ['introspection_encrypted_response_alg', 'RSA-OAEP-256'],
    ['introspection_encrypted_response_enc', 'A256GCM'],
    ['authorization_signed_response_alg', 'RS256'],
    ['authorization_encrypted_response_alg', 'RSA-OAEP-256'],
    ['authorization_encrypted_response_enc', 'A256GCM'],
    ['request_object_signing_alg', 'RS256'],
    ['require_signed_request_object', true],
    ['request_object_encryption_alg', 'RSA-OAEP-256'],
    ['request_object_encryption_enc', 'A256GCM'],
    ['tls_client_auth_subject_dn', 'CN=app.example.com'],
    ['tls_client_auth_san_dns', 'app.example.com'],
    ['tls_client_auth_san_uri', 'https://app.example.com'],
    ['tls_client_auth_san_ip', '192.0.2.1'],
    ['tls_client_auth_san_email', 'app@example.com'],
    ['use_mtls_endpoint_aliases', true],
    ['tls_client_certificate_bound_access_tokens', true],
    ['backchannel_token_delivery_mode', 'poll'],
    ['backchannel_client_notification_endpoint', 'https://app.example.com/ciba'],
    ['backchannel_user_code_parameter', true],
    ['backchannel_authentication_request_signing_alg', 'RS256'],
    ['authorization_details_types', ['payment_initiation']],
    ['id_token_signing_alg_values_supported', ['RS256']],
    ['token_endpoint_auth_methods_supported', ['client_secret_basic']],
    ['subject_types_supported', ['public']],
    ['userinfo_signing_alg_values_supported', ['RS256']],
  ])('refuses %s with invalid_client_metadata naming it, at registration and at update', async (field, value) => {
    const registered = await register(running, { ...WEB_APP, [field]: value });
    expect(registered.status).toBe(400);
    expect(registered.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining(field) });

    const updated = await registerThenUpdate(running, { [field]: value });
    expect(updated.status).toBe(400);
    expect(updated.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining(field) });
  });

  it('refuses, or keeps, every field oidc-provider recognises only with a feature on: none is dropped in silence', async () => {
    // Read from the installed oidc-provider, so that an upgrade adding such a field fails here until Latch decides on it.
    const library = dirname(createRequire(import.meta.url).resolve('oidc-provider'));
    const schema = readFileSync(join(library, 'helpers/client_schema.js'), 'utf8');
    const attributes = readFileSync(join(library, 'consts/client_attributes.js'), 'utf8');
    const gated = [...schema.matchAll(/RECOGNIZED_METADATA\.push\(([^)]*)\)/g)].flatMap(([, names]) => [...(names ?? '').matchAll(/'([a-z_]+)'/g)].map(([, name]) => name));
    const choices = [...attributes.matchAll(/'([a-z_]+_supported)'/g)].map(([, name]) => name);
    const fields = [...new Set([...gated, ...choices])] as string[];
    expect(fields.length).toBeGreaterThan(40);

    for (const field of fields) {
      const response = await register(running, { ...WEB_APP, [field]: 'x' });
      const named = response.status === 400 && String(response.body.error_description).includes(field);
      const kept = response.status === 201 && field in response.body;
      expect({ field, answered: named || kept }).toEqual({ field, answered: true });
    }
  });

  it('accepts false for a switch of a feature that is off: it asks for nothing Latch lacks', async () => {
    const registered = await register(running, { ...WEB_APP, backchannel_logout_session_required: false, require_signed_request_object: false });
    expect(registered.status).toBe(201);
  });

  it('keeps the metadata of the features that are on', async () => {
    const registered = await register(running, {
      ...WEB_APP,
      post_logout_redirect_uris: ['https://app.example.com/signed-out'],
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks_uri: 'https://app.example.com/jwks',
    });

    expect(registered.status).toBe(201);
    expect(registered.body).toMatchObject({
      post_logout_redirect_uris: ['https://app.example.com/signed-out'],
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
      token_endpoint_auth_signing_alg: 'ES256',
    });
  });

  it('still allows plain http redirect URIs on any host outside production, as the quick start uses', async () => {
    const registered = await register(running, {
      redirect_uris: ['http://localhost:3001/api/auth/callback/latch', 'http://app.internal.example/callback'],
      post_logout_redirect_uris: ['http://app.internal.example/'],
    });
    expect(registered.status).toBe(201);
  });
});

describe('redirect URIs in production', () => {
  let running: RunningLatch;

  beforeAll(async () => {
    // An http issuer on loopback is what production allows for a local trial; DATABASE_URL and the secrets come from startLatch.
    running = await startLatch({ NODE_ENV: 'production', LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN });
  });

  afterAll(async () => {
    await running?.stop();
  });

  it.each(['http://evil.example/cb', 'http://app.example.com:8080/callback', 'http://192.0.2.10/callback', 'http://localhost.evil.example/cb'])(
    'refuses the plain http redirect URI %s with invalid_redirect_uri',
    async (uri) => {
      const response = await register(running, { redirect_uris: ['https://app.example.com/callback', uri] });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: 'invalid_redirect_uri', error_description: expect.stringMatching(/^redirect_uris .*https/) });
    },
  );

  it('refuses a plain http post-logout redirect URI on a public host, at registration and at update', async () => {
    const registered = await register(running, { ...WEB_APP, post_logout_redirect_uris: ['http://app.example.com/signed-out'] });
    expect(registered.status).toBe(400);
    expect(registered.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringMatching(/^post_logout_redirect_uris .*https/) });

    const updated = await registerThenUpdate(running, { redirect_uris: ['http://app.example.com/callback'] });
    expect(updated.status).toBe(400);
    expect(updated.body.error).toBe('invalid_redirect_uri');
  });

  it('accepts https anywhere and plain http on loopback, for web and native clients', async () => {
    const web = await register(running, {
      redirect_uris: ['https://app.example.com/callback', 'http://localhost:3001/callback', 'http://127.0.0.1:3001/callback', 'http://[::1]:3001/callback'],
      post_logout_redirect_uris: ['https://app.example.com/', 'http://localhost:3001/'],
    });
    expect(web.status).toBe(201);

    const native = await register(running, {
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback', 'com.example.app:/callback'],
    });
    expect(native.status).toBe(201);
  });
});
