import { validate as validateAgainst } from '@hyperjump/json-schema/openapi-3-1';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import * as oidc from 'openid-client';
import supertest, { type Response } from 'supertest';
import { adminClient, adminClientToken } from '../support/admin.js';
import { registerClient } from '../support/clients.js';
import { createTestDatabase } from '../support/database.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { PASSWORD, createUser, relyingParty, signIn } from '../support/sign-in.js';
import { query } from '../support/sql.js';

/**
 * The OpenAPI document, checked twice: as an OpenAPI 3.1 document, and against the real API. Every
 * documented status of every operation is produced by a real request, every body is validated
 * against its documented schema, and a status the document does not list fails the test.
 */

interface Reference {
  $ref: string;
}
interface ResponseObject {
  description: string;
  headers?: Record<string, { required?: boolean }>;
  content?: Record<string, { schema: unknown }>;
}
interface OperationObject {
  operationId: string;
  security?: Record<string, string[]>[];
  responses: Record<string, ResponseObject | Reference>;
}
interface OpenApiDocument {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, OperationObject>>;
}

const DOCUMENT_PATH = '/api/v1/openapi.json';
/** What the document is known as to the validator; its own $refs ("#/components/...") resolve within it. */
const DOCUMENT_ID = 'https://latch.test/openapi.json';

let running: RunningLatch;
let app: oidc.Configuration;
let document: OpenApiDocument;

beforeAll(async () => {
  // Few link mails per hour, so that the limit's 429 is quick to reach.
  running = await startLatch({ ACCOUNT_MAILS_PER_HOUR: String(MAILS_PER_HOUR) });
  // First-party: no consent page on the way to a token.
  app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
  document = (await running.http().get(DOCUMENT_PATH).expect(200)).body as OpenApiDocument;
});

afterAll(async () => {
  await running?.stop();
});

/** A JSON Pointer (RFC 6901) in URI fragment form. */
const pointer = (...segments: string[]) => `#${segments.map((segment) => `/${encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'))}`).join('')}`;

function resolve(ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  const segments = ref.slice(1).split('/').slice(1).map((segment) => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~'));
  return segments.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), document);
}

function referencesIn(node: unknown, at: string): { at: string; ref: string }[] {
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [{ at, ref: value }] : referencesIn(value, `${at}/${key}`)));
}

function operations(): { path: string; method: string; operation: OperationObject }[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ path, method, operation })));
}

function operationNamed(id: string) {
  const found = operations().find(({ operation }) => operation.operationId === id);
  if (!found) throw new Error(`the document has no operation ${id}`);
  return found;
}

describe('the OpenAPI document', () => {
  it('is served to anyone, cacheable, and revalidated with its ETag', async () => {
    const response = await running.http().get(DOCUMENT_PATH).expect(200);

    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    const etag = response.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const revalidated = await running.http().get(DOCUMENT_PATH).set('If-None-Match', etag).expect(304);
    expect(revalidated.text).toBe('');
  });

  it('is a valid OpenAPI 3.1 document, its schemas valid in the OpenAPI 3.1 dialect', async () => {
    const { body } = await running.http().get(DOCUMENT_PATH).expect(200);

    // The specification's own schema-base, which also checks every Schema Object against the dialect.
    const output = await validateAgainst('https://spec.openapis.org/oas/3.1/schema-base', body, 'BASIC');

    expect(output.valid ? [] : output.errors).toEqual([]);
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
  });

  it('resolves every $ref it holds', () => {
    const references = referencesIn(document, '#');

    expect(references.length).toBeGreaterThan(10);
    expect(references.filter(({ ref }) => resolve(ref) === undefined)).toEqual([]);
  });

  it('describes every route of the API, each operation once, with bearer security exactly where a token is needed', () => {
    const security = Object.fromEntries(operations().map(({ method, path, operation }) => [`${method.toUpperCase()} ${path}`, operation.security ?? null]));

    expect(security).toEqual({
      'POST /users': null,
      'GET /users/me': [{ bearer: ['openid'] }],
      'PATCH /users/me': [{ bearer: ['profile'] }],
      'DELETE /users/me': [{ bearer: ['openid'] }],
      'PUT /users/me/password': [{ bearer: ['openid'] }],
      'GET /users/{id}': [{ bearer: ['openid'] }],
      'GET /users/me/grants': [{ bearer: ['openid'] }],
      'DELETE /users/me/grants': [{ bearer: ['openid'] }],
      'DELETE /users/me/grants/{id}': [{ bearer: ['openid'] }],
      'GET /users/me/sessions': [{ bearer: ['openid'] }],
      'DELETE /users/me/sessions': [{ bearer: ['openid'] }],
      'DELETE /users/me/sessions/{id}': [{ bearer: ['openid'] }],
      'POST /users/me/email-verification': [{ bearer: ['openid'] }],
      'POST /password-resets': null,
      'GET /openapi.json': null,
      ...Object.fromEntries(ADMIN_OPERATIONS.map((operation) => [operation, [{ bearer: ['admin'] }]])),
    });
    expect(new Set(operations().map(({ operation }) => operation.operationId)).size).toBe(operations().length);
  });
});

const ADMIN_OPERATIONS = [
  'GET /admin/roles',
  'POST /admin/roles',
  'GET /admin/roles/{id}',
  'PATCH /admin/roles/{id}',
  'DELETE /admin/roles/{id}',
  'GET /admin/roles/{id}/permissions',
  'PUT /admin/roles/{id}/permissions/{permissionId}',
  'DELETE /admin/roles/{id}/permissions/{permissionId}',
  'GET /admin/resource-servers',
  'POST /admin/resource-servers',
  'GET /admin/resource-servers/{id}',
  'PATCH /admin/resource-servers/{id}',
  'DELETE /admin/resource-servers/{id}',
  'GET /admin/resource-servers/{id}/permissions',
  'POST /admin/resource-servers/{id}/permissions',
  'PATCH /admin/resource-servers/{id}/permissions/{value}',
  'DELETE /admin/resource-servers/{id}/permissions/{value}',
  ...['users', 'clients'].flatMap((collection) => [
    `GET /admin/${collection}/{id}/roles`,
    `GET /admin/${collection}/{id}/roles/{role}`,
    `PUT /admin/${collection}/{id}/roles/{role}`,
    `DELETE /admin/${collection}/{id}/roles/{role}`,
  ]),
];

const isAdminOperation = (operation: OperationObject) => operation.security?.some((requirement) => requirement.bearer?.includes('admin')) === true;

/** A real request, and the status it was sent to produce (none for probes, which may produce any documented one). */
interface Exchange {
  operationId: string;
  intended?: number;
  response: Response;
}

interface SendOptions {
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  id?: string;
  /** Path parameters other than {id}. */
  params?: Record<string, string>;
  headers?: Record<string, string>;
}

/** Sends a request to an operation at the method and path the document gives it. */
function send(target: { http(): supertest.Agent }, operationId: string, { token, json, form, id, params = {}, headers = {} }: SendOptions = {}): Promise<Response> {
  const { path, method } = operationNamed(operationId);
  const filled = Object.entries(params).reduce((at, [name, value]) => at.replace(`{${name}}`, encodeURIComponent(value)), path.replace('{id}', encodeURIComponent(id ?? randomUUID())));
  const url = `${document.servers[0]?.url}${filled}`;
  let request = target.http()[method as 'get' | 'post' | 'put' | 'patch' | 'delete'](url);
  if (token !== undefined) request = request.set('Authorization', `Bearer ${token}`);
  for (const [name, value] of Object.entries(headers)) request = request.set(name, value);
  if (form !== undefined) return request.type('form').send(form);
  return json === undefined ? request : request.send(json as object);
}

async function signedIn(scope = 'openid email profile') {
  const user = await createUser(running);
  const { tokens } = await signIn(app, user, { scope });
  return { user, token: tokens.access_token };
}

async function clientCredentialsToken(baseUrl: string, latch: RunningLatch['latch']): Promise<string> {
  const client = await registerClient(latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
  const configuration = await oidc.discovery(new URL(baseUrl), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(configuration)).access_token;
}

const MAILS_PER_HOUR = 2;

const registration = () => ({ email: `user-${randomUUID()}@example.com`, password: PASSWORD, name: 'Ada Lovelace' });

/** Requests sent to produce one status each, on the test's Latch. */
async function intendedExchanges(): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  const produce = async (operationId: string, intended: number, options: SendOptions = {}) => {
    exchanges.push({ operationId, intended, response: await send(running, operationId, options) });
  };
  const reader = await signedIn();
  const machine = await clientCredentialsToken(running.baseUrl, running.latch);
  const withoutProfileScope = await signedIn('openid email');

  const taken = registration();
  await produce('registerUser', 201, { json: taken });
  await produce('registerUser', 400, { json: {} });
  await produce('registerUser', 409, { json: taken });
  await produce('registerUser', 415, { form: registration() });

  await produce('getCurrentUser', 200, { token: reader.token });

  await produce('updateCurrentUser', 200, { token: reader.token, json: { given_name: 'Ada' } });
  await produce('updateCurrentUser', 400, { token: reader.token, json: { website: 'ftp://ada.example.com' } });
  await produce('updateCurrentUser', 403, { token: withoutProfileScope.token, json: { given_name: 'Ada' } });

  await produce('changePassword', 400, { token: reader.token, json: { current_password: 'not the password', new_password: 'a new and long passphrase' } });
  const changing = await signedIn();
  await produce('changePassword', 204, { token: changing.token, json: { current_password: changing.user.password, new_password: 'a new and long passphrase' } });

  await produce('deleteCurrentUser', 400, { token: reader.token, json: { current_password: 'not the password' } });
  const leaving = await signedIn();
  await produce('deleteCurrentUser', 204, { token: leaving.token, json: { current_password: leaving.user.password } });

  const other = await createUser(running);
  await produce('updateCurrentUser', 409, { token: reader.token, json: { email: other.email } });
  const moving = await signedIn();
  for (let change = 0; change < MAILS_PER_HOUR; change += 1) {
    await produce('updateCurrentUser', 200, { token: moving.token, json: { email: `moved-${randomUUID()}@example.com` } });
  }
  await produce('updateCurrentUser', 429, { token: moving.token, json: { email: `moved-${randomUUID()}@example.com` } });

  const forgetful = registration();
  for (let request = 0; request < MAILS_PER_HOUR; request += 1) await produce('requestPasswordReset', 202, { json: { email: forgetful.email } });
  await produce('requestPasswordReset', 429, { json: { email: forgetful.email } });
  await produce('requestPasswordReset', 400, { json: {} });

  // The registration mailed the first link of the hour.
  const unverified = await signedIn();
  for (let request = 1; request < MAILS_PER_HOUR; request += 1) await produce('requestEmailVerification', 202, { token: unverified.token });
  await produce('requestEmailVerification', 429, { token: unverified.token });

  await produce('getUser', 200, { token: reader.token, id: reader.user.id });
  await produce('getUser', 404, { token: reader.token, id: randomUUID() });

  const owner = await signedIn('openid');
  await produce('listGrants', 200, { token: owner.token });
  await produce('listSessions', 200, { token: owner.token });
  await produce('revokeGrants', 204, { token: owner.token });
  await produce('endSessions', 204, { token: owner.token });
  await produce('revokeGrant', 404, { token: owner.token, id: randomUUID() });
  await produce('endSession', 404, { token: owner.token, id: randomUUID() });
  const ownSession = (await send(running, 'listSessions', { token: owner.token })).body.sessions[0].id as string;
  await produce('endSession', 204, { token: owner.token, id: ownSession });
  const granting = await signedIn('openid');
  const ownGrant = (await send(running, 'listGrants', { token: granting.token })).body.grants[0].id as string;
  await produce('revokeGrant', 204, { token: granting.token, id: ownGrant });

  const admin = await adminClientToken(running);
  await adminExchanges(produce, admin, reader.user.id);

  const { headers } = await send(running, 'getOpenApiDocument');
  await produce('getOpenApiDocument', 200);
  await produce('getOpenApiDocument', 304, { headers: { 'If-None-Match': headers.etag as string } });

  // Every bearer-protected operation: without a token, and with one that acts for no user.
  for (const { operation } of operations().filter(({ operation }) => operation.security !== undefined)) {
    await produce(operation.operationId, 401, { json: {} });
    await produce(operation.operationId, 403, { token: machine, json: {} });
  }
  // Every operation that takes a body: a form instead.
  for (const { operation } of operations().filter(({ operation }) => 'requestBody' in operation)) {
    await produce(operation.operationId, 415, { token: isAdminOperation(operation) ? admin : reader.token, form: { given_name: 'Ada' }, id: reader.user.id });
  }
  // Throttled: this address's registration and sign-in counters past their limits, then forgotten again.
  await query(
    running.databaseUrl,
    `INSERT INTO rate_limits (key, points, expire)
     VALUES ('registration_ip:127.0.0.1', 1000000, now() + interval '1 minute'), ('signin_ip:127.0.0.1', 1000000, now() + interval '1 minute')
     ON CONFLICT (key) DO UPDATE SET points = excluded.points, expire = excluded.expire`,
  );
  await produce('registerUser', 429, { json: registration() });
  await produce('changePassword', 429, { token: reader.token, json: { current_password: 'not the password', new_password: 'a new and long passphrase' } });
  await produce('deleteCurrentUser', 429, { token: reader.token, json: { current_password: 'not the password' } });
  await query(running.databaseUrl, 'DELETE FROM rate_limits');
  return exchanges;
}

type Produce = (operationId: string, intended: number, options?: SendOptions) => Promise<void>;

/** The admin API's roles, resource servers and assignments: each documented status, with an admin client's token. */
async function adminExchanges(produce: Produce, token: string, userId: string): Promise<void> {
  const as = (options: SendOptions = {}) => ({ token, ...options });
  const unique = randomUUID().slice(0, 8);
  const resource = `https://orders-${unique}.example.com`;
  const missing = randomUUID();

  await produce('listResourceServers', 200, as());
  await produce('createResourceServer', 201, as({ json: { identifier: resource, name: 'Orders' } }));
  await produce('createResourceServer', 400, as({ json: { identifier: 'not a uri' } }));
  await produce('createResourceServer', 409, as({ json: { identifier: resource } }));
  await produce('getResourceServer', 200, as({ id: resource }));
  await produce('getResourceServer', 404, as({ id: missing }));
  await produce('updateResourceServer', 200, as({ id: resource, json: { name: 'Order service' } }));
  await produce('updateResourceServer', 400, as({ id: resource, json: { name: 5 } }));
  await produce('updateResourceServer', 404, as({ id: missing, json: { name: 'Order service' } }));
  await produce('createPermission', 201, as({ id: resource, json: { value: 'orders:read', description: 'Read orders' } }));
  await produce('createPermission', 400, as({ id: resource, json: { value: 'orders read' } }));
  await produce('createPermission', 404, as({ id: missing, json: { value: 'orders:read' } }));
  await produce('createPermission', 409, as({ id: resource, json: { value: 'orders:read' } }));
  await produce('listPermissions', 200, as({ id: resource }));
  await produce('listPermissions', 404, as({ id: missing }));
  await produce('updatePermission', 200, as({ id: resource, params: { value: 'orders:read' }, json: { description: 'Read every order' } }));
  await produce('updatePermission', 400, as({ id: resource, params: { value: 'orders:read' }, json: { description: 5 } }));
  await produce('updatePermission', 404, as({ id: resource, params: { value: 'orders:none' }, json: { description: null } }));

  const name = `reader-${unique}`;
  await produce('listRoles', 200, as());
  await produce('createRole', 201, as({ json: { name, description: 'Reads orders' } }));
  await produce('createRole', 400, as({ json: { name: 'not a name!' } }));
  await produce('createRole', 409, as({ json: { name } }));
  await produce('getRole', 200, as({ id: name }));
  await produce('getRole', 404, as({ id: missing }));
  await produce('updateRole', 200, as({ id: name, json: { description: 'Reads every order' } }));
  await produce('updateRole', 400, as({ id: name, json: { name: 'not a name!' } }));
  await produce('updateRole', 404, as({ id: missing, json: { description: null } }));
  await produce('updateRole', 409, as({ id: name, json: { name: 'admin' } }));
  const permissionId = (await send(running, 'listPermissions', as({ id: resource }))).body.permissions[0].id as string;
  await produce('grantRolePermission', 200, as({ id: name, params: { permissionId } }));
  await produce('grantRolePermission', 404, as({ id: name, params: { permissionId: missing } }));
  await produce('listRolePermissions', 200, as({ id: name }));
  await produce('listRolePermissions', 404, as({ id: missing }));

  const client = (await adminClient(running)).clientId;
  for (const [kind, id] of [['User', userId], ['Client', client]] as const) {
    await produce(`assign${kind}Role`, 204, as({ id, params: { role: name } }));
    await produce(`assign${kind}Role`, 404, as({ id, params: { role: missing } }));
    await produce(`list${kind}Roles`, 200, as({ id }));
    await produce(`list${kind}Roles`, 404, as({ id: missing }));
    await produce(`get${kind}Role`, 200, as({ id, params: { role: name } }));
    await produce(`unassign${kind}Role`, 204, as({ id, params: { role: name } }));
    await produce(`get${kind}Role`, 404, as({ id, params: { role: name } }));
    await produce(`unassign${kind}Role`, 404, as({ id: missing, params: { role: name } }));
  }

  await produce('revokeRolePermission', 204, as({ id: name, params: { permissionId } }));
  await produce('revokeRolePermission', 404, as({ id: missing, params: { permissionId } }));
  await produce('deletePermission', 204, as({ id: resource, params: { value: 'orders:read' } }));
  await produce('deletePermission', 404, as({ id: resource, params: { value: 'orders:read' } }));
  await produce('deleteRole', 204, as({ id: name }));
  await produce('deleteRole', 404, as({ id: name }));
  await produce('deleteRole', 409, as({ id: 'admin' }));
  await produce('deleteResourceServer', 204, as({ id: resource }));
  await produce('deleteResourceServer', 404, as({ id: resource }));
  await produce('deleteResourceServer', 409, as({ id: running.config.oidc.apiResource }));
}

/** The same few requests to every operation, whatever it documents: each answer must be documented. */
async function probes(): Promise<Exchange[]> {
  const { user, token } = await signedIn();
  const machine = await clientCredentialsToken(running.baseUrl, running.latch);
  const requests: SendOptions[] = [{ json: {} }, { token: machine, json: {} }, { token, form: { name: 'x' }, id: user.id }, { token: 'not-a-token', json: [] }];
  const exchanges: Exchange[] = [];
  for (const { operation } of operations()) {
    for (const options of requests) exchanges.push({ operationId: operation.operationId, response: await send(running, operation.operationId, options) });
  }
  return exchanges;
}

/** A TCP relay to PostgreSQL that the test can cut, as a network failure would. */
async function startRelay(targetPort: number): Promise<{ port: number; cut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const relay = createTcpServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  relay.listen(0, '127.0.0.1');
  await once(relay, 'listening');
  return {
    port: (relay.address() as AddressInfo).port,
    cut: async () => {
      const closed = new Promise((resolve) => relay.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * 500 and 503 from a Latch of their own, whose database connections pass through a relay: first
 * its tables are dropped under it (a fault no handler anticipates), then the relay is cut (the
 * database is unreachable). Each documenting operation is sent a request it would otherwise accept.
 */
async function failureExchanges(): Promise<Exchange[]> {
  const database = await createTestDatabase();
  const relay = await startRelay(Number(new URL(database.url).port));
  const relayedUrl = new URL(database.url);
  relayedUrl.hostname = '127.0.0.1';
  relayedUrl.port = String(relay.port);
  const running = await startLatch({ LOG_LEVEL: 'silent' }, { databaseUrl: relayedUrl.href });
  const { latch, config } = running;
  const target = { http: () => supertest.agent(config.issuer) };
  try {
    // Verified offline first, then looked up in the store: where the failures strike.
    const token = await clientCredentialsToken(config.issuer, latch);
    // An address with an account: its reset reads the tables about to go.
    const known = registration();
    await send(target, 'registerUser', { json: known });
    const failing = async (status: number) => {
      const documenting = operations().filter(({ operation }) => String(status) in operation.responses);
      const exchanges: Exchange[] = [];
      for (const { operation } of documenting) {
        const json = operation.operationId === 'registerUser' ? registration() : operation.operationId === 'requestPasswordReset' ? { email: known.email } : {};
        exchanges.push({ operationId: operation.operationId, intended: status, response: await send(target, operation.operationId, { token, json }) });
      }
      return exchanges;
    };
    await query(database.url, 'DROP TABLE profiles, oidc_payloads CASCADE');
    const internal = await failing(500);
    await relay.cut();
    return [...internal, ...(await failing(503))];
  } finally {
    await running.stop();
    await relay.cut();
    await database.drop();
  }
}

describe('the OpenAPI document against the real API', () => {
  let ajv: Ajv2020;

  beforeAll(() => {
    ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    // The document's OpenAPI members are not JSON Schema keywords; only the schemas within it are compiled.
    ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components']);
    ajv.addSchema(document as object, DOCUMENT_ID);
  });

  /** What is wrong with one real exchange, measured against the document. */
  function mismatches({ operationId, intended, response }: Exchange): string[] {
    const { path, method, operation } = operationNamed(operationId);
    const said = `${operationId} answered ${response.status} ${response.text.slice(0, 200)}`;
    const problems: string[] = [];
    if (intended !== undefined && response.status !== intended) problems.push(`${said}, not the ${intended} it was sent to produce`);
    const documented = operation.responses[String(response.status)];
    if (!documented) return [...problems, `${said}: a status the document does not list`];

    const at = '$ref' in documented ? documented.$ref : pointer('paths', path, method, 'responses', String(response.status));
    const described = resolve(at) as ResponseObject;
    const mediaTypes = Object.keys(described.content ?? {});
    const mediaType = String(response.headers['content-type'] ?? '').split(';')[0] as string;
    if (mediaTypes.length === 0) {
      if (response.text) problems.push(`${said}: a body where the document describes none`);
    } else if (!mediaTypes.includes(mediaType)) {
      problems.push(`${said}: as ${mediaType}, not ${mediaTypes.join(' or ')}`);
    } else {
      const validate = ajv.compile({ $ref: `${DOCUMENT_ID}${at}${pointer('content', mediaType, 'schema').slice(1)}` });
      if (!validate(response.body)) problems.push(`${said}: the body does not match its schema: ${ajv.errorsText(validate.errors)}`);
    }
    for (const [name, header] of Object.entries(described.headers ?? {})) {
      if (header.required && response.headers[name.toLowerCase()] === undefined) problems.push(`${said}: without its ${name} header`);
    }
    return problems;
  }

  it('produces every documented status of every operation, each body matching its schema, and no other status', async () => {
    const exchanges = [...(await intendedExchanges()), ...(await probes()), ...(await failureExchanges())];

    const produced = new Set(exchanges.map(({ operationId, response }) => `${operationId} ${response.status}`));
    const documented = operations().flatMap(({ operation }) => Object.keys(operation.responses).map((status) => `${operation.operationId} ${status}`));
    expect({ mismatches: exchanges.flatMap(mismatches), neverProduced: documented.filter((status) => !produced.has(status)) }).toEqual({ mismatches: [], neverProduced: [] });
  });
});
