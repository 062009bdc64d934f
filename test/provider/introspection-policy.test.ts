import { registerClient } from '../support/clients.js';
import { grantPermissions } from '../support/admin.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';

const INITIAL_ACCESS_TOKEN = 'initial-access-token-0123456789-abcdefghijklmnop';
const ORDERS = 'https://orders.example.com';
const BILLING = 'https://billing.example.com';
/** The clients the orders and billing services authenticate as, linked to their resource servers in RESOURCE_SERVERS. */
const ORDERS_SERVICE = 'orders-service';
const ORDERS_SPA = 'orders-spa';
const BILLING_SERVICE = 'billing-service';

interface Credentials {
  client_id: string;
  client_secret?: string;
}

let running: RunningLatch;
let user: TestUser;
let app: Awaited<ReturnType<typeof registerClient>>;
let ordersService: Credentials;
let billingService: Credentials;

beforeAll(async () => {
  running = await startLatch({
    LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN,
    RESOURCE_SERVERS: JSON.stringify({
      [ORDERS]: { scope: 'orders:read', clients: [ORDERS_SERVICE, ORDERS_SPA] },
      [BILLING]: { scope: 'billing:read', clients: [BILLING_SERVICE] },
      'https://legacy.example.com': 'legacy:read',
    }),
  });
  user = await createUser(running);
  app = await registerClient(running.latch, {
    client_name: 'App',
    redirect_uris: ['http://127.0.0.1:9/callback'],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  });
  const service = { grant_types: [], response_types: [], redirect_uris: [] };
  ordersService = await registerClient(running.latch, { client_id: ORDERS_SERVICE, ...service });
  billingService = await registerClient(running.latch, { client_id: BILLING_SERVICE, ...service });
  await registerClient(running.latch, { client_id: ORDERS_SPA, token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:9/spa'] });
  // The app's own tokens carry orders:read only while a role of the app grants it.
  await grantPermissions(running, { client: app.client_id }, ORDERS, ['orders:read']);
});

afterAll(async () => {
  await running?.stop();
});

function introspect(client: Credentials, token: string) {
  const request = running.http().post('/token/introspection').type('form');
  const authenticated = client.client_secret === undefined ? request : request.auth(client.client_id, client.client_secret);
  return authenticated.send({ token, ...(client.client_secret === undefined ? { client_id: client.client_id } : {}) }).expect(200);
}

async function clientCredentialsToken(client: Credentials, params: Record<string, string> = {}): Promise<string> {
  const response = await running
    .http()
    .post('/token')
    .auth(client.client_id, client.client_secret as string)
    .type('form')
    .send({ grant_type: 'client_credentials', ...params })
    .expect(200);
  return response.body.access_token;
}

/** A client that registered itself, as anyone holding the initial access token can. */
async function selfRegistered(): Promise<Credentials> {
  const response = await running
    .http()
    .post('/reg')
    .set('Authorization', `Bearer ${INITIAL_ACCESS_TOKEN}`)
    .send({ client_name: 'Curious', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] })
    .expect(201);
  return response.body;
}

describe('introspection answers only the token holder and the resource servers it is meant for (RFC 7662 §2.1, §4)', () => {
  it("tells a self-registered client nothing about another client's user tokens", async () => {
    const { tokens } = await signIn(await relyingParty(running, app), user, { params: { prompt: 'consent' } });
    const curious = await selfRegistered();

    expect((await introspect(curious, tokens.access_token)).body).toEqual({ active: false });
    expect((await introspect(curious, tokens.refresh_token as string)).body).toEqual({ active: false });

    // The token's own client still learns everything.
    expect((await introspect(app, tokens.access_token)).body).toMatchObject({ active: true, sub: user.id, client_id: app.client_id });
    expect((await introspect(app, tokens.refresh_token as string)).body).toMatchObject({ active: true, sub: user.id });
  });

  it("tells a self-registered client nothing about another client's client credentials token", async () => {
    const token = await clientCredentialsToken(app);
    const curious = await selfRegistered();

    expect((await introspect(curious, token)).body).toEqual({ active: false });
    expect((await introspect(app, token)).body).toMatchObject({ active: true, client_id: app.client_id });
  });

  it('describes a token to the client registered as the resource server of its audience, and to no other', async () => {
    const token = await clientCredentialsToken(app, { resource: ORDERS, scope: 'orders:read' });

    expect((await introspect(ordersService, token)).body).toMatchObject({ active: true, aud: ORDERS, scope: 'orders:read', client_id: app.client_id });
    expect((await introspect(billingService, token)).body).toEqual({ active: false });
  });

  it("tells a resource server nothing about tokens for Latch's own API or about refresh tokens", async () => {
    const apiToken = await clientCredentialsToken(app);
    const { tokens } = await signIn(await relyingParty(running, app), user, { params: { prompt: 'consent' } });

    expect((await introspect(ordersService, apiToken)).body).toEqual({ active: false });
    expect((await introspect(ordersService, tokens.refresh_token as string)).body).toEqual({ active: false });
  });

  it('never counts a public client as a resource server, since anyone can send its client_id', async () => {
    const token = await clientCredentialsToken(app, { resource: ORDERS, scope: 'orders:read' });

    expect((await introspect({ client_id: ORDERS_SPA }, token)).body).toEqual({ active: false });
  });
});
