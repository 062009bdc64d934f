import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Browser } from '../support/browser.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn, type TestUser } from '../support/sign-in.js';
import { Authorization, testClient, type TestClient } from '../interactions/support.js';

/**
 * Property-based fuzzing of every surface over real HTTP: thousands of generated malformed
 * requests, each of which must get a 4xx (or a success) in its surface's own format, with Latch's
 * security headers, and with no stack frame or secret in the answer or in the logs.
 */

const RUNS = 10_000;
const CONCURRENCY = 8;
/** Printed on failure: `FUZZ_SEED=<seed> npm test -- test/fuzz` replays the very same inputs. */
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
/** Only ever sent where a secret goes (passwords, client secrets): it must never be seen again. */
const SECRET_MARKER = `fuzz-secret-${randomBytes(6).toString('hex')}`;
const INITIAL_ACCESS_TOKEN = `initial-${randomBytes(24).toString('hex')}`;
const STACK_FRAME = /\bat .*\.[cm]?[jt]s:\d+(:\d+)?/;

type Surface = 'api' | 'oauth' | 'page' | 'metadata';

interface FuzzRequest {
  surface: Surface;
  method: string;
  path: string;
  query?: string;
  headers: Record<string, string>;
  body?: string;
}

let running: RunningLatch;
let client: TestClient;
let user: TestUser;
let accessToken: string;
let interaction: { uid: string; cookie: string; csrf: string };
/** A browser signed in to the account page: its cookies and the page's anti-forgery token. */
let account: { cookie: string; csrf: string };

beforeAll(async () => {
  running = await startLatch({ LATCH_INITIAL_ACCESS_TOKEN: INITIAL_ACCESS_TOKEN, LOG_LEVEL: 'info' });
  client = await testClient(running);
  user = await createUser(running);
  ({ access_token: accessToken } = (await signIn(await relyingParty(running, client.metadata), user, { params: { prompt: 'consent' } })).tokens);

  // A real interaction at its login step, with its cookies and anti-forgery token, as a browser holds them.
  const browser = new Browser();
  const page = await (await Authorization.start(client)).open(browser);
  const uid = page.url.pathname.split('/')[2] as string;
  const names = ['_interaction', '_interaction.sig', 'latch.csrf', 'latch.csrf.sig'];
  const cookie = names.map((name) => `${name}=${browser.cookie(page.url, name) ?? ''}`).join('; ');
  interaction = { uid, cookie, csrf: /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] as string };

  const accountBrowser = new Browser();
  const signInPage = await accountBrowser.navigate(`${running.baseUrl}/account`);
  const accountPage = await accountBrowser.submit(signInPage, { email: user.email, password: user.password }, { button: 'Sign in' });
  const accountCookies = ['_session', '_session.sig', 'latch.csrf', 'latch.csrf.sig'].map((name) => `${name}=${accountBrowser.cookie(accountPage.url, name) ?? ''}`);
  account = { cookie: accountCookies.join('; '), csrf: /name="csrf" value="([^"]+)"/.exec(accountPage.html)?.[1] as string };
});

afterAll(async () => {
  await running.stop();
});

// --- values -----------------------------------------------------------------------------------

const nasty = fc.constantFrom(
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  '%00',
  '%ZZ',
  '%',
  '../../etc/passwd',
  '"\'<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '\r\nX-Injected: 1',
  'ÿ\u0085\u2028',
  '',
  ' ',
  '-1',
  '1e309',
  'null',
  'true',
  '[]',
  '{}',
);
const huge = fc.integer({ min: 1_000, max: 70_000 }).map((length) => 'x'.repeat(length));
/** Node itself refuses a request head over its 16 KiB limit (431) before any of Latch runs: no Latch answer to check. */
const NODE_REFUSED_HEAD = 431;
const text = fc.oneof({ weight: 4, arbitrary: fc.string({ maxLength: 40 }) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) }, { weight: 4, arbitrary: nasty }, { weight: 1, arbitrary: huge });
const secret = fc.string({ maxLength: 20 }).map((suffix) => `${SECRET_MARKER}${suffix}`);

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(text, nasty), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A deeply nested document, as raw text: JSON.stringify of it would recurse as deep. */
const deeplyNested = fc.integer({ min: 100, max: 20_000 }).map((depth) => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`);

/** A JSON text of an object with the given fields fuzzed, or something that is not quite that. */
function jsonBody(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<string> {
  const object = fc.record(fields, { requiredKeys: [] });
  const withExtras = fc.tuple(object, fc.dictionary(fc.oneof(nasty, text), jsonValue, { maxKeys: 3 })).map(([known, extra]) => ({ ...extra, ...known }));
  return fc.oneof(
    { weight: 5, arbitrary: withExtras.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: jsonValue.map((value) => JSON.stringify(value) ?? 'undefined') },
    { weight: 1, arbitrary: fc.tuple(withExtras, fc.nat()).map(([value, cut]) => JSON.stringify(value).slice(0, cut % 40)) },
    { weight: 1, arbitrary: deeplyNested },
    { weight: 1, arbitrary: withExtras.map((value) => `{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}, ${JSON.stringify(value).slice(1)}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  );
}

/** Form parameters, some repeated, with fuzzed values, as urlencoded text (or truncated, or not a form). */
function formBody(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  const pairs = fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...Object.keys(fields)).chain((name) => (fields[name] as fc.Arbitrary<string>).map((value) => [name, value] as const)) },
      { weight: 1, arbitrary: fc.tuple(fc.oneof(nasty, text), text) },
    ),
    { maxLength: 8 },
  );
  const encoded = pairs.map((entries) => new URLSearchParams(entries.map(([name, value]): [string, string] => [name, value])).toString());
  return fc.oneof(
    { weight: 6, arbitrary: encoded },
    { weight: 1, arbitrary: fc.tuple(encoded, fc.nat()).map(([body, cut]) => body.slice(0, cut % 30)) },
    { weight: 1, arbitrary: fc.constantFrom('a=%', 'a=%E0%A4%A', '%00=%00', 'a[b][c][d][e][f]=1&a[__proto__][x]=1', '&&&==&', 'a=1&a=2&a=3&a[]=4') },
  );
}

function queryString(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  return formBody(fields);
}

// --- headers ----------------------------------------------------------------------------------

const base64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');
const contentType = fc.constantFrom(
  'application/json',
  'application/x-www-form-urlencoded',
  'text/plain',
  'multipart/form-data; boundary=xyz',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded; charset=latin1',
  'application/xml',
  'garbage',
  '',
);
const authorization = (): fc.Arbitrary<string | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.constant(`Basic ${base64(`${client.metadata.client_id}:${client.metadata.client_secret as string}`)}`),
    secret.map((value) => `Basic ${base64(`${client.metadata.client_id}:${value}`)}`),
    fc.tuple(text, secret).map(([id, value]) => `Basic ${base64(`${id}:${value}`)}`),
    text.map((value) => `Basic ${base64(value)}`),
    fc.constantFrom('Basic', 'Basic !!!', 'Basic Og==', 'Bearer', 'Bearer a.b.c', 'Bearer ' + 'A'.repeat(5000), 'Digest x', 'basic  '),
    fc.constant(`Bearer ${accessToken}`),
    fc.constant(`Bearer ${INITIAL_ACCESS_TOKEN}`),
  );

function headersOf(type: string | undefined, auth: string | undefined, accept = 'application/json'): Record<string, string> {
  return { accept, ...(type ? { 'content-type': type } : {}), ...(auth ? { authorization: auth } : {}) };
}

/** A path segment the way a hostile client would write it: raw, escaped, or an escaped NUL or surrogate. */
const pathSegment = fc.oneof(
  text.filter((value) => !['', '.', '..'].includes(value)).map((value) => Buffer.from(value.replace(/[\ud800-\udfff]/g, '?'), 'utf8').toString('hex').replace(/(..)/g, '%$1')),
  // Not ".", ".." or "%2e%2e": URLs resolve those away, to paths outside the surface.
  fc.constantFrom('%00', 'a%00b', '%ED%A0%80', '%FF', '%', '%2F', 'me', 'x'.repeat(3000)),
);

// --- requests per surface ---------------------------------------------------------------------

function requests(): fc.Arbitrary<FuzzRequest> {
  const registration = jsonBody({ email: text, password: secret, name: text, given_name: text });
  const claims = jsonBody({ name: text, given_name: text, family_name: text, website: text, birthdate: text, phone_number: text, locale: text });
  const passwordChange = jsonBody({ current_password: secret, new_password: secret });
  const deletion = jsonBody({ current_password: secret });

  const api = fc.oneof(
    fc.tuple(registration, contentType).map(([body, type]) => ({ method: 'POST', path: '/api/v1/users', body, type, auth: undefined as string | undefined })),
    fc.tuple(claims, contentType, authorization()).map(([body, type, auth]) => ({ method: 'PATCH', path: '/api/v1/users/me', body, type, auth })),
    fc.tuple(passwordChange, authorization()).map(([body, auth]) => ({ method: 'PUT', path: '/api/v1/users/me/password', body, type: 'application/json', auth })),
    fc.tuple(deletion, authorization()).map(([body, auth]) => ({ method: 'DELETE', path: '/api/v1/users/me', body, type: 'application/json', auth })),
    fc.tuple(pathSegment, fc.constantFrom('GET', 'PUT', 'POST', 'PROPFIND', 'OPTIONS'), authorization()).map(([id, method, auth]) => ({ method, path: `/api/v1/users/${id}`, body: undefined, type: undefined, auth })),
  ).map(({ method, path, body, type, auth }): FuzzRequest => ({ surface: 'api', method, path, body, headers: headersOf(type, auth) }));

  const oauthParameters = {
    client_id: fc.oneof(text, fc.constant(client.metadata.client_id)),
    client_secret: secret,
    grant_type: fc.oneof(text, fc.constantFrom('authorization_code', 'refresh_token', 'client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code')),
    code: text,
    refresh_token: text,
    redirect_uri: fc.oneof(text, fc.constant('http://127.0.0.1:9/callback')),
    code_verifier: text,
    scope: fc.oneof(text, fc.constantFrom('openid', 'openid profile email offline_access')),
    resource: text,
    token: fc.oneof(text, fc.constant(accessToken)),
    token_type_hint: fc.oneof(text, fc.constantFrom('access_token', 'refresh_token')),
    access_token: fc.oneof(text, fc.constant(accessToken)),
    response_type: fc.oneof(text, fc.constant('code')),
    state: text,
    nonce: text,
    login_hint: text,
    prompt: text,
    request_uri: text,
    code_challenge: text,
    code_challenge_method: fc.oneof(text, fc.constant('S256')),
    id_token_hint: text,
    post_logout_redirect_uri: text,
  };
  const form = formBody(oauthParameters);
  const protocolPost = fc
    .tuple(fc.constantFrom('/token', '/token/introspection', '/token/revocation', '/me', '/request'), form, fc.oneof({ weight: 4, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: contentType }), authorization())
    .map(([path, body, type, auth]): FuzzRequest => ({ surface: 'oauth', method: 'POST', path, body, headers: headersOf(type, auth) }));
  const protocolGet = fc
    .tuple(fc.constantFrom('/auth', '/session/end', '/me'), queryString(oauthParameters), authorization())
    .map(([path, query, auth]): FuzzRequest => ({ surface: path === '/me' ? 'oauth' : 'page', method: 'GET', path, query, headers: headersOf(undefined, auth, path === '/me' ? 'application/json' : 'text/html') }));
  const registrationMetadata = jsonBody({
    redirect_uris: fc.oneof(fc.array(text, { maxLength: 3 }), text, fc.constant(['https://rp.example.com/cb'])),
    client_name: text,
    grant_types: fc.array(text, { maxLength: 3 }),
    token_endpoint_auth_method: text,
    jwks: jsonValue,
    logo_uri: text,
  });
  const dcr = fc.oneof(
    fc.tuple(registrationMetadata, fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: contentType }), authorization()).map(
      ([body, type, auth]): FuzzRequest => ({ surface: 'oauth', method: 'POST', path: '/reg', body, headers: headersOf(type, auth) }),
    ),
    fc.tuple(pathSegment, fc.constantFrom('GET', 'PUT', 'DELETE'), authorization()).map(([id, method, auth]): FuzzRequest => ({ surface: 'oauth', method, path: `/reg/${id}`, body: method === 'PUT' ? '{}' : undefined, headers: headersOf('application/json', auth) })),
  );
  const metadata = fc
    .tuple(fc.constantFrom('/jwks', '/.well-known/openid-configuration'), queryString(oauthParameters))
    .map(([path, query]): FuzzRequest => ({ surface: 'metadata', method: 'GET', path, query, headers: headersOf(undefined, undefined) }));

  const pageFields = { csrf: fc.oneof({ weight: 3, arbitrary: fc.constant(interaction.csrf) }, { weight: 1, arbitrary: text }), email: fc.oneof(text, fc.constant(user.email)), password: secret, name: text, kind: fc.oneof(text, fc.constantFrom('totp', 'recovery_code')), code: text, recovery_code: text };
  const pages = fc.oneof(
    fc.tuple(fc.constantFrom('login', 'register', 'second-factor', 'enrol', 'enrolled', 'enrol-cancel'), formBody(pageFields), fc.oneof({ weight: 4, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: contentType })).map(
      ([step, body, type]): FuzzRequest => ({ surface: 'page', method: 'POST', path: `/interaction/${interaction.uid}/${step}`, body, headers: { ...headersOf(type, undefined, 'text/html'), cookie: interaction.cookie } }),
    ),
    fc.tuple(pathSegment, fc.constantFrom('', '/register', '/login', '/confirm'), fc.constantFrom('GET', 'POST'), queryString(pageFields)).map(
      ([uid, step, method, query]): FuzzRequest => ({ surface: 'page', method, path: `/interaction/${uid}${step}`, query, headers: { ...headersOf(method === 'POST' ? 'application/x-www-form-urlencoded' : undefined, undefined, 'text/html'), cookie: interaction.cookie }, body: method === 'POST' ? '' : undefined }),
    ),
  );

  // The account page and the self-service flows: posts with the signed-in browser's cookies (and
  // without), links with forged tokens. Account-changing posts use another email than the user's
  // password-guessing ones, so the suite's own session survives.
  const accountFields = {
    csrf: fc.oneof({ weight: 3, arbitrary: fc.constant(account.csrf) }, { weight: 1, arbitrary: text }),
    email: text,
    currentPassword: secret,
    newPassword: secret,
    name: text,
    website: text,
    client: text,
    session: text,
    token: text,
    factor: text,
    code: text,
  };
  const accountPosts = fc
    .tuple(fc.constantFrom(
        '/account/profile',
        '/account/email',
        '/account/password',
        '/account/apps/revoke',
        '/account/sessions/end',
        '/account/security/totp',
        '/account/security/totp/confirm',
        '/account/security/factors/remove',
        '/account/security/recovery-codes',
      ), formBody(accountFields), fc.boolean(), fc.oneof({ weight: 4, arbitrary: fc.constant('application/x-www-form-urlencoded') }, { weight: 1, arbitrary: contentType }))
    .map(([path, body, signedIn, type]): FuzzRequest => ({ surface: 'page', method: 'POST', path, body, headers: { ...headersOf(type, undefined, 'text/html'), ...(signedIn ? { cookie: account.cookie } : {}) } }));
  const selfServicePages = fc
    .tuple(fc.constantFrom('forgot-password', 'reset-password', 'verify-email', 'confirm-email'), fc.constantFrom('GET', 'POST'), queryString(accountFields), formBody(accountFields))
    .map(([page, method, query, body]): FuzzRequest => ({ surface: 'page', method, path: `/self-service/${page}`, query, body: method === 'POST' ? body : undefined, headers: headersOf(method === 'POST' ? 'application/x-www-form-urlencoded' : undefined, undefined, 'text/html') }));
  const accountGets = fc
    .tuple(fc.constantFrom('/account', '/account/callback', '/account/security', '/dev/mail', '/'), queryString(oauthParameters))
    .map(([path, query]): FuzzRequest => ({ surface: 'page', method: 'GET', path, query, headers: headersOf(undefined, undefined, 'text/html') }));
  const selfServiceApi = fc
    .tuple(fc.constantFrom('/api/v1/password-resets', '/api/v1/users/me/email-verification', '/api/v1/users/me/grants', '/api/v1/users/me/sessions'), jsonBody({ email: text }), fc.constantFrom('POST', 'GET', 'DELETE'), authorization())
    .map(([path, body, method, auth]): FuzzRequest => ({ surface: 'api', method, path, body: method === 'GET' ? undefined : body, headers: headersOf('application/json', auth) }));

  return fc.oneof(
    { weight: 4, arbitrary: api },
    { weight: 4, arbitrary: protocolPost },
    { weight: 2, arbitrary: protocolGet },
    { weight: 2, arbitrary: dcr },
    { weight: 1, arbitrary: metadata },
    { weight: 3, arbitrary: pages },
    { weight: 2, arbitrary: accountPosts },
    { weight: 1, arbitrary: selfServicePages },
    { weight: 1, arbitrary: accountGets },
    { weight: 1, arbitrary: selfServiceApi },
  );
}

// --- the properties ---------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

async function send(request: FuzzRequest): Promise<Answer> {
  const url = `${running.baseUrl}${request.path}${request.query ? `?${request.query}` : ''}`;
  // Node's fetch keeps its connections alive: the requests share a few sockets, as behind a proxy.
  const response = await fetch(url, { method: request.method, headers: request.headers, body: request.body, redirect: 'manual' });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** What is wrong with the answer, or undefined when it is as it must be. */
function violation(request: FuzzRequest, answer: Answer): string | undefined {
  const type = answer.headers.get('content-type') ?? '';
  if (answer.status >= 500) return `a ${answer.status}`;
  if (answer.status === NODE_REFUSED_HEAD) return undefined;
  if (answer.headers.get('x-content-type-options') !== 'nosniff' || answer.headers.get('x-frame-options') !== 'DENY') return 'no security headers';
  if (STACK_FRAME.test(answer.body)) return 'a stack frame in the body';
  if (answer.body.includes(SECRET_MARKER) || answer.body.includes(client.metadata.client_secret as string)) return 'a secret in the body';
  if (answer.status < 400) return undefined;
  switch (request.surface) {
    case 'api':
      if (!type.startsWith('application/problem+json')) return `not problem+json but ${type}`;
      if (!/"type":"urn:latch:problem:/.test(answer.body)) return 'a problem without its type';
      return undefined;
    case 'oauth':
    case 'metadata': {
      if (!type.startsWith('application/json')) return `not OAuth JSON but ${type}`;
      const error = (JSON.parse(answer.body) as { error?: unknown }).error;
      return typeof error === 'string' ? undefined : 'an OAuth error without its error code';
    }
    case 'page':
      // A page refuses with a page, or, once the client is known, by sending the error back to it.
      return type.startsWith('text/html') || (answer.status === 429 && type !== '') ? undefined : `not a page but ${type}`;
  }
}

/** Runs the requests with a few at a time in flight; the failures, with what was sent. */
async function runAll(all: FuzzRequest[]): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < all.length) {
      const request = all[next++] as FuzzRequest;
      try {
        const problem = violation(request, await send(request));
        if (problem) failures.push(`${problem}: ${request.method} ${request.path.slice(0, 100)}?${(request.query ?? '').slice(0, 100)} ${JSON.stringify(request.headers).slice(0, 200)} ${(request.body ?? '').slice(0, 200)}`);
      } catch (error) {
        failures.push(`no answer (${String(error)}): ${request.method} ${request.path}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failures;
}

describe(`${RUNS} generated hostile requests (FUZZ_SEED=${SEED})`, () => {
  it('each answered below 500, in its surface format, with security headers, leaking no stack or secret; Latch stays healthy', async () => {
    const all = fc.sample(requests(), { seed: SEED, numRuns: RUNS });
    const failures = await runAll(all);

    const logs = running.logs();
    const leakingLines = logs.split('\n').filter((line) => line.includes(SECRET_MARKER) || line.includes(client.metadata.client_secret as string) || line.includes(user.password) || STACK_FRAME.test(line));
    const health = await fetch(`${running.baseUrl}/healthz`);

    // The first failures and the seed appear in the diff, so a failing run can be replayed.
    expect({ seed: SEED, failures: failures.length, firstFailures: failures.slice(0, 20), leakingLogLines: leakingLines.slice(0, 5) }).toEqual({ seed: SEED, failures: 0, firstFailures: [], leakingLogLines: [] });
    expect(health.status).toBe(200);
  }, 180_000);
});
