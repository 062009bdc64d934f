import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import { grantPermissions } from '../support/admin.js';
import { registerClient } from '../support/clients.js';
import { findFreePort } from '../support/free-port.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, relyingParty, signIn } from '../support/sign-in.js';

/**
 * The example resource servers of examples/, each run as its own process exactly as their
 * comments tell a user to, against a live Latch that knows both as resource servers.
 */

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
const PYTHON = '/usr/bin/python3';
/** Short, so that a token expires within the test; every other token is used the moment it is issued. */
const ACCESS_TOKEN_TTL_SECONDS = 2;
const SCOPES = 'orders:read orders:write';

interface Example {
  name: string;
  command: string;
  args: string[];
  /** Why it cannot run here, with the fix; undefined when it can. */
  missing?: () => string | undefined;
}

const EXAMPLES: Example[] = [
  { name: 'node (jose)', command: process.execPath, args: ['examples/resource-server-node/server.mjs'] },
  {
    name: 'python (PyJWT)',
    command: PYTHON,
    args: ['examples/resource-server-python/server.py'],
    missing: () => {
      const probe = spawnSync(PYTHON, ['-c', 'import jwt, jwt.algorithms; assert jwt.algorithms.has_crypto, "no cryptography"'], { encoding: 'utf8' });
      if (probe.status === 0) return undefined;
      const reason = probe.error?.message ?? probe.stderr.trim().split('\n').pop();
      return `${PYTHON} cannot use PyJWT with RS256 (${reason}). Install it: apt-get install -y python3-jwt`;
    },
  },
];

interface RunningExample {
  audience: string;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs an example with only the settings its comment lists, and resolves once it listens. */
async function runExample(example: Example, { issuer, audience, port }: { issuer: string; audience: string; port: number }): Promise<RunningExample> {
  const child: ChildProcessWithoutNullStreams = spawn(example.command, example.args, {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', LATCH_ISSUER: issuer, AUDIENCE: audience, PORT: String(port) },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = once(child, 'exit');
  const deadline = Date.now() + 15_000;
  while (!output.includes('resource server on')) {
    if (child.exitCode !== null) throw new Error(`${example.name} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${example.name} did not listen within 15 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return {
    audience,
    url: `http://127.0.0.1:${port}/orders`,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

let running: RunningLatch;
const ports = new Map<string, number>();
const audienceOf = (example: Example) => `http://127.0.0.1:${ports.get(example.name)}`;

beforeAll(async () => {
  for (const example of EXAMPLES) ports.set(example.name, await findFreePort());
  running = await startLatch({
    RESOURCE_SERVERS: JSON.stringify(Object.fromEntries(EXAMPLES.map((example) => [audienceOf(example), SCOPES]))),
    ACCESS_TOKEN_TTL: String(ACCESS_TOKEN_TTL_SECONDS),
  });
});

afterAll(async () => {
  await running?.stop();
});

async function clientCredentialsToken(params: Record<string, string>): Promise<string> {
  const client = await registerClient(running.latch, { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] });
  // Scopes of a resource server are permissions: the client's own role grants what it asks for.
  if (params.resource !== undefined && params.scope !== undefined) await grantPermissions(running, { client: client.client_id }, params.resource, params.scope.split(' '));
  const configuration = await oidc.discovery(new URL(running.baseUrl), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(configuration, params)).access_token;
}

const challengeOf = (response: Response) => response.headers.get('www-authenticate');

describe.each(EXAMPLES)('the $name example resource server', (example) => {
  let server: RunningExample;
  const call = (token?: string) => fetch(server.url, token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } });
  const tokenFor = (audience: string, scope = 'orders:read') => clientCredentialsToken({ resource: audience, scope });

  beforeAll(async () => {
    const missing = example.missing?.();
    if (missing) throw new Error(missing);
    server = await runExample(example, { issuer: running.baseUrl, audience: audienceOf(example), port: ports.get(example.name) as number });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('accepts a client credentials token issued for it with the scope', async () => {
    const response = await call(await tokenFor(server.audience));

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ orders: expect.any(Array), client_id: expect.any(String) });
  });

  it('accepts a user token from the sign-in flow that named it as the resource', async () => {
    const client = await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true });
    const user = await createUser(running);
    await grantPermissions(running, { user: user.id }, server.audience, ['orders:read']);
    const { tokens } = await signIn(await relyingParty(running, client), user, { scope: 'openid orders:read', params: { resource: server.audience } });

    const response = await call(tokens.access_token);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: user.id, client_id: client.client_id });
  });

  it('answers 401 with a bare challenge when no token is sent', async () => {
    const response = await call();

    expect(response.status).toBe(401);
    expect(challengeOf(response)).toBe('Bearer realm="orders"');
  });

  it('refuses the token once its payload is changed, the signature kept', async () => {
    const [header, payload, signature] = (await tokenFor(server.audience)).split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, client_id: 'someone-else' })).toString('base64url')}.${signature}`;

    const response = await call(tampered);

    expect(response.status).toBe(401);
    expect(challengeOf(response)).toMatch(/^Bearer realm="orders", error="invalid_token", error_description="[^"]+"$/);
  });

  it("refuses a token for another audience: Latch's own API, or the other example", async () => {
    const other = EXAMPLES.find((candidate) => candidate !== example) as Example;
    for (const token of [await clientCredentialsToken({}), await tokenFor(audienceOf(other))]) {
      const response = await call(token);

      expect(response.status).toBe(401);
      expect(challengeOf(response)).toMatch(/error="invalid_token", error_description="the aud claim is not valid"/);
    }
  });

  it('answers 403 insufficient_scope to a token without the scope it needs', async () => {
    const response = await call(await tokenFor(server.audience, 'orders:write'));

    expect(response.status).toBe(403);
    expect(challengeOf(response)).toBe('Bearer realm="orders", error="insufficient_scope", error_description="the orders:read scope is required", scope="orders:read"');
  });

  it('refuses a token once it has expired', async () => {
    const token = await tokenFor(server.audience);
    await expect(call(token)).resolves.toHaveProperty('status', 200);
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number };
    // Neither example allows clock leeway: the token is expired from its exp second on.
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 100));

    const response = await call(token);

    expect(response.status).toBe(401);
    expect(challengeOf(response)).toMatch(/error="invalid_token", error_description="the access token expired"/);
  });
});
