import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Latch } from '../../src/app.js';
import type { Assignee } from '../../src/authorization/assignments.js';
import { ADMIN_ROLE } from '../../src/authorization/seed.js';
import { createClientAdmin, type ClientAdmin, type NewClient } from '../../src/provider/client-admin.js';
import type { RunningLatch } from './latch.js';
import { relyingParty, signIn, type TestUser } from './sign-in.js';

/** The client admin the CLI uses, over the running Latch's store and provider. */
export function clientAdminOf(latch: Latch): ClientAdmin {
  return createClientAdmin({
    store: latch.oidcStore,
    validate: (metadata) => latch.provider.current().Client.validate(metadata),
    now: () => new Date(),
    audit: latch.audit,
    assignments: latch.authorization.assignments,
  });
}

const MACHINE: NewClient = { name: 'test admin', public: false, firstParty: false, redirectUris: [], postLogoutRedirectUris: [], grants: ['client_credentials'], admin: true };

/** A machine client made as `clients create --admin` makes one: client_credentials, the admin role, `admin` in its scope. */
export async function adminClient(running: RunningLatch): Promise<{ clientId: string; clientSecret: string }> {
  const { client, clientSecret } = await clientAdminOf(running.latch).create(MACHINE);
  return { clientId: client.clientId, clientSecret: clientSecret as string };
}

/** A client credentials access token for Latch's API, asking for `scope`. */
export async function clientCredentialsToken(running: RunningLatch, { clientId, clientSecret }: { clientId: string; clientSecret: string }, scope: string): Promise<string> {
  const configuration = await oidc.discovery(new URL(running.baseUrl), clientId, clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  return (await oidc.clientCredentialsGrant(configuration, { scope })).access_token;
}

/** A new admin machine client's access token with the `admin` scope. */
export async function adminClientToken(running: RunningLatch): Promise<string> {
  return clientCredentialsToken(running, await adminClient(running), 'admin');
}

/**
 * The user, given the admin role, signed in through a first-party client an admin allowed to ask
 * for `admin`; returns the access token (scope `openid admin`) and the rest of the sign-in.
 */
export async function adminUserToken(running: RunningLatch, user: TestUser, { scope = 'openid admin' }: { scope?: string } = {}): Promise<string> {
  await running.latch.authorization.assignments.assign({ user: user.id }, ADMIN_ROLE, 'admin');
  return (await signIn(await relyingParty(running, await adminSignInClient(running)), user, { scope })).tokens.access_token;
}

/** A first-party sign-in client whose scope lists `admin`, as `clients create --admin --grant authorization_code` makes one. */
export async function adminSignInClient(running: RunningLatch): Promise<{ client_id: string; client_secret: string; redirect_uris: string[]; token_endpoint_auth_method: 'client_secret_basic' }> {
  const redirectUri = 'https://console.example.com/callback';
  const { client, clientSecret } = await clientAdminOf(running.latch).create({ ...MACHINE, name: 'test console', firstParty: true, redirectUris: [redirectUri], grants: ['authorization_code'] });
  return { client_id: client.clientId, client_secret: clientSecret as string, redirect_uris: [redirectUri], token_endpoint_auth_method: 'client_secret_basic' };
}

/**
 * Permissions on a resource server are role-gated: gives the user or client a new role holding
 * these permissions (which must exist, as RESOURCE_SERVERS seeds them). Returns the role's name.
 */
export async function grantPermissions(running: RunningLatch, assignee: Assignee, resource: string, permissions: string[]): Promise<string> {
  const { roles, assignments } = running.latch.authorization;
  const { name } = await roles.create({ name: `role-${randomUUID()}` }, 'admin');
  for (const value of permissions) await roles.grant(name, { resource, value }, 'admin');
  await assignments.assign(assignee, name, 'admin');
  return name;
}
