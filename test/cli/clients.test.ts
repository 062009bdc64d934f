import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectRefused, MANY_COMMANDS_MS, runCli, type CliRun } from '../support/cli.js';
import { findFreePort } from '../support/free-port.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { query } from '../support/sql.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch();
});

afterAll(async () => {
  await running?.stop();
});

const latch = (...args: string[]) => runCli(running, args);
/** The same, with variables changed; one given as undefined is left out. */
const latchWith = (env: Record<string, string | undefined>, ...args: string[]) => runCli(running, args, { env });

/** The value printed after `label` in the create report. */
function printed(run: CliRun, label: string): string {
  const value = new RegExp(`^\\s*${label}:\\s+(\\S+)`, 'm').exec(run.stdout)?.[1];
  if (!value) throw new Error(`no ${label} in:\n${run.stdout}${run.stderr}`);
  return value;
}

const clientCredentials = (clientId: string, secret: string) =>
  running.http().post('/token').auth(clientId, secret).type('form').send({ grant_type: 'client_credentials' });

describe('latch (admin CLI)', () => {
  it('prints its usage with --help, and refuses an unknown command or option with it, exit code 1', async () => {
    const help = await latch('--help');
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toMatch(/latch clients create/);
    expect(help.stdout).toMatch(/latch keys rotate/);

    expectRefused(await latch('frobnicate'), /Unknown command: frobnicate\.\nusage: latch <command>/);
    expectRefused(await latch('clients', 'create', '--redirect-uri', 'https://app.example.com/cb', '--nmae', 'App'), /--nmae\. Did you mean --name\?[\s\S]*usage:[\s\S]*latch clients create/);
    expectRefused(await latch('clients', 'create', '--redirect-uri', 'https://app.example.com/cb', '--grant', 'implicit'), /--grant must be authorization_code or client_credentials/);
    expectRefused(await latch('clients', 'create', '--redirect-uri', 'https://app.example.com/cb', '--id-token-alg', 'HS256'), /--id-token-alg must be RS256, ES256, EdDSA/);
    expectRefused(await latch('clients', 'show'), /clients show takes exactly one client id/);
  }, MANY_COMMANDS_MS);

  it('tells a usage mistake, with what was probably meant, before it opens any database', async () => {
    // No DATABASE_URL: the embedded PostgreSQL, in an empty data directory, which must stay empty.
    const dataDir = await mkdtemp(join(tmpdir(), 'latch-cli-usage-'));
    const beforeDatabase = { DATABASE_URL: undefined, LATCH_DATA_DIR: dataDir, EMBEDDED_POSTGRES_PORT: String(await findFreePort()) };
    try {
      expectRefused(await latchWith(beforeDatabase, 'client', 'list'), /^Unknown command: client\. Did you mean clients\?\nusage: latch/);
      expectRefused(await latchWith(beforeDatabase, 'clients', 'lsit'), /^unknown subcommand: clients lsit\. Did you mean list\?\nusage:/);
      expectRefused(await latchWith(beforeDatabase, 'clients', 'create', '--redirect-url', 'https://app.example.com/cb'), /unknown option --redirect-url\. Did you mean --redirect-uri\?/);
      expectRefused(await latchWith(beforeDatabase, 'clients', 'create', '--name'), /clients create: Option '--name <value>' argument missing/);
      expectRefused(await latchWith(beforeDatabase, 'clients', 'create', '--name', 'App'), /^clients create needs --redirect-uri <uri>/);
      expectRefused(await latchWith(beforeDatabase, 'keys', 'rotate', '--publish-fo', '60'), /unknown option --publish-fo\. Did you mean --publish-for\?/);
      expectRefused(await latchWith(beforeDatabase, 'keys'), /^keys needs a subcommand\nusage:/);
      expect(await readdir(dataDir)).toEqual([]);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, MANY_COMMANDS_MS);

  it('writes no log line ahead of its report, and any it writes (LOG_LEVEL=info) in words', async () => {
    const quiet = await latchWith({ LOG_LEVEL: undefined }, 'clients', 'create', '--grant', 'client_credentials', '--name', 'Quiet job');
    expect(quiet).toMatchObject({ code: 0, stderr: '' });
    expect(quiet.stdout).toMatch(/^Created confidential client \S+ \(Quiet job\)\./);

    const told = await latchWith({ LOG_LEVEL: 'info' }, 'clients', 'create', '--grant', 'client_credentials', '--name', 'Told job');
    expect(told.code).toBe(0);
    const lines = told.stderr.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^latch: info: [^{]/);
    expect(told.stderr).not.toContain(printed(told, 'Client secret'));
  }, MANY_COMMANDS_MS);

  it('prints a failure of the database as one line, without Prisma\'s source excerpt', async () => {
    const missing = new URL(running.databaseUrl);
    missing.pathname = '/no_such_database';
    const run = await latchWith({ DATABASE_URL: missing.href }, 'clients', 'list');
    expectRefused(run, /^latch failed: .*no_such_database/);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(/invocation|prisma\.|src\/|→/);
  }, MANY_COMMANDS_MS);

  it('refuses what the provider refuses, with its reason', async () => {
    expectRefused(await latch('clients', 'create', '--redirect-uri', 'not a url'), /The client is not valid: redirect_uris/);
    expectRefused(await latch('clients', 'create', '--public', '--grant', 'client_credentials'), /public client cannot use client_credentials/);
  }, MANY_COMMANDS_MS);

  it('in production, refuses plain http redirect URIs except on loopback, as dynamic registration does', async () => {
    expectRefused(
      await latchWith({ NODE_ENV: 'production' }, 'clients', 'create', '--redirect-uri', 'https://app.example.com/cb', '--redirect-uri', 'http://evil.example/cb'),
      /The client is not valid: redirect_uris must use https .*http:\/\/evil\.example/,
    );
    expectRefused(
      await latchWith({ NODE_ENV: 'production' }, 'clients', 'create', '--redirect-uri', 'https://app.example.com/cb', '--post-logout-redirect-uri', 'http://app.example.com/'),
      /The client is not valid: post_logout_redirect_uris must use https/,
    );

    const loopback = await latchWith({ NODE_ENV: 'production' }, 'clients', 'create', '--redirect-uri', 'https://app.example.com/cb', '--redirect-uri', 'http://localhost:3001/cb');
    expect(loopback).toMatchObject({ code: 0 });
    // Outside production the same plain http URI is what a local app needs.
    expect(await latch('clients', 'create', '--redirect-uri', 'http://app.internal.example/cb')).toMatchObject({ code: 0 });
  }, MANY_COMMANDS_MS);

  it('creates a NextAuth client and prints what to paste, then lists and shows it without its secret', async () => {
    const callback = 'https://app.example.com/api/auth/callback/latch';
    const created = await latch(
      'clients', 'create', '--name', 'Example App', '--redirect-uri', callback, '--redirect-uri', 'http://localhost:3000/api/auth/callback/latch',
      '--post-logout-redirect-uri', 'https://app.example.com/', '--first-party', '--id-token-alg', 'ES256',
    );

    expect(created).toMatchObject({ code: 0 });
    const clientId = printed(created, 'Client ID');
    const secret = printed(created, 'Client secret');
    expect(created.stdout).toContain(`Discovery:       ${running.baseUrl}/.well-known/openid-configuration`);
    expect(created.stdout).toContain(`AUTH_LATCH_ISSUER=${running.baseUrl}\n`);
    expect(created.stdout).toContain(`AUTH_LATCH_ID=${clientId}\n`);
    expect(created.stdout).toContain(`AUTH_LATCH_SECRET=${secret}\n`);
    expect(created.stdout).toContain("    id: 'latch',\n    name: 'Latch',\n    type: 'oauth',\n    wellKnown: `${process.env.AUTH_LATCH_ISSUER}/.well-known/openid-configuration`,");
    expect(created.stdout).toContain("authorization: { params: { scope: 'openid email profile offline_access', prompt: 'consent' } },");
    expect(created.stdout).toContain("checks: ['pkce', 'state'],");
    expect(created.stdout).toContain('<app>/api/auth/callback/latch');

    // The provider loads it as any other client, with what was asked for.
    const discovered = await running.latch.provider.current().Client.find(clientId);
    expect(discovered?.metadata()).toMatchObject({
      client_name: 'Example App',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [callback, 'http://localhost:3000/api/auth/callback/latch'],
      post_logout_redirect_uris: ['https://app.example.com/'],
      id_token_signed_response_alg: 'ES256',
      first_party: true,
    });
    expect(await discovered?.compareClientSecret(secret)).toBe(true);

    const listed = await latch('clients', 'list');
    expect(listed).toMatchObject({ code: 0 });
    expect(listed.stdout).toMatch(new RegExp(`^${clientId}\\s+Example App\\s+confidential\\s+yes\\s+authorization_code,refresh_token\\s+\\d{4}-`, 'm'));

    const shown = await latch('clients', 'show', clientId);
    expect(shown).toMatchObject({ code: 0 });
    expect(shown.stdout).toContain(`Redirect URIs:              ${callback} http://localhost:3000/api/auth/callback/latch`);
    expect(shown.stdout).toContain('ID token algorithm:         ES256');
    for (const run of [listed, shown]) expect(run.stdout).not.toContain(secret);
  }, MANY_COMMANDS_MS);

  it('creates a public client, without a secret and for PKCE', async () => {
    const created = await latch('clients', 'create', '--public', '--redirect-uri', 'https://spa.example.com/callback');

    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).not.toMatch(/secret:|AUTH_LATCH_SECRET/i);
    expect(created.stdout).toContain("client: { token_endpoint_auth_method: 'none' },");
    const client = await running.latch.provider.current().Client.find(printed(created, 'Client ID'));
    expect(client?.metadata()).toMatchObject({ token_endpoint_auth_method: 'none' });
    expect(client?.clientSecret).toBeUndefined();
  }, MANY_COMMANDS_MS);

  it('creates a client that a running Latch accepts at once, rotates its secret, and deletes it with its tokens', async () => {
    const created = await latch('clients', 'create', '--grant', 'client_credentials', '--name', 'Batch job');
    expect(created).toMatchObject({ code: 0 });
    const clientId = printed(created, 'Client ID');
    const secret = printed(created, 'Client secret');

    const issued = await clientCredentials(clientId, secret).expect(200);
    expect(issued.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });

    const rotated = await latch('clients', 'rotate-secret', clientId);
    expect(rotated).toMatchObject({ code: 0 });
    const newSecret = /^\s+(\S+)$/m.exec(rotated.stdout)?.[1] as string;
    expect(newSecret).not.toBe(secret);
    expect((await clientCredentials(clientId, secret)).body.error).toBe('invalid_client');
    await clientCredentials(clientId, newSecret).expect(200);

    const issuedToIt = () => query(running.databaseUrl, `SELECT model FROM oidc_payloads WHERE payload->>'clientId' = $1`, [clientId]);
    expect((await issuedToIt()).length).toBe(2);

    const deleted = await latch('clients', 'delete', clientId);
    expect(deleted).toMatchObject({ code: 0 });
    expect(deleted.stdout).toMatch(/Deleted client .*, and 2 grant\(s\), code\(s\) and token\(s\)/);
    expect(await issuedToIt()).toEqual([]);
    expect((await clientCredentials(clientId, newSecret)).body.error).toBe('invalid_client');
    expect((await latch('clients', 'list')).stdout).not.toContain(clientId);
    expectRefused(await latch('clients', 'show', clientId), new RegExp(`There is no client ${clientId}`));
    expectRefused(await latch('clients', 'rotate-secret', clientId), /There is no client/);
  }, MANY_COMMANDS_MS);
});
