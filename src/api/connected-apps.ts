import { z } from 'zod';
import type { ConnectedApp, ConnectedApps } from '../account/connected-apps.js';
import type { SignInSession, SignInSessions } from '../account/sign-in-sessions.js';
import { callerOf } from './bearer-auth.js';
import type { ApiRoutes } from './operation.js';

const timestamp = z.iso.datetime();

const grantSchema = z
  .object({
    id: z.string().describe('The grant id: the path to revoke it.'),
    client_id: z.string(),
    client_name: z.string().optional().describe("The name the app registered, when it has one."),
    scopes: z.array(z.string()).describe('What the app may do: its OpenID Connect scopes and API scopes, each once.'),
    resources: z.array(z.string()).describe('The APIs (RFC 8707 resource indicators) its access tokens are for.'),
    granted_at: timestamp,
    expires_at: timestamp.optional(),
  })
  .describe('Access the user gave an app.');
export const grantListSchema = z.object({ grants: z.array(grantSchema) }).meta({ id: 'GrantList' });

const sessionSchema = z
  .object({
    id: z.string().describe('The session id (not its cookie): the path to end it.'),
    current: z.boolean().describe('Whether the access token making this request was issued in this session.'),
    device: z.string().describe('The browser and system of its last use, in words ("Firefox on Windows").'),
    ip: z.string().optional().describe('The address of its last use.'),
    signed_in_at: timestamp.optional(),
    last_seen_at: timestamp.optional().describe('Its last use, to the minute.'),
    expires_at: timestamp.optional(),
    client_ids: z.array(z.string()).describe('The apps signed in through it.'),
  })
  .describe('A browser signed in to Latch.');
export const sessionListSchema = z.object({ sessions: z.array(sessionSchema) }).meta({ id: 'SessionList' });

const iso = (date: Date | undefined) => date?.toISOString();

export function presentGrant(app: ConnectedApp): z.input<typeof grantSchema> {
  return {
    id: app.grantId,
    client_id: app.clientId,
    client_name: app.clientName,
    scopes: app.scopes,
    resources: app.resources,
    granted_at: app.grantedAt.toISOString(),
    expires_at: iso(app.expiresAt),
  };
}

export function presentSession(session: SignInSession): z.input<typeof sessionSchema> {
  return {
    id: session.uid,
    current: session.current,
    device: session.device,
    ip: session.ip,
    signed_in_at: iso(session.signedInAt),
    last_seen_at: iso(session.lastSeenAt),
    expires_at: iso(session.expiresAt),
    client_ids: session.clientIds,
  };
}

export interface ConnectedAppsRoutesDependencies {
  connectedApps: ConnectedApps;
  sessions: SignInSessions;
}

/**
 * The signed-in user's grants and sessions: what the account page shows, through the same
 * services. Deleting a whole collection spares what the caller itself stands on (its own grant,
 * its own session), as a password change does; each can still be deleted by its id.
 */
export function mountConnectedAppsRoutes(routes: ApiRoutes, { connectedApps, sessions }: ConnectedAppsRoutesDependencies): void {
  const storageProblems = ['internal', 'unavailable'] as const;
  const idOf = (params: Record<string, string | undefined>) => params.id ?? '';

  routes.add(
    { id: 'listGrants', method: 'get', path: '/users/me/grants', summary: 'List the apps the signed-in user gave access', scope: 'openid', replies: { 200: { description: 'Every grant, most recent first.', body: grantListSchema } }, problems: storageProblems },
    async (ctx) => ({ status: 200, body: { grants: (await connectedApps.list(callerOf(ctx).user.id)).map(presentGrant) } }),
  );

  routes.add(
    {
      id: 'revokeGrants',
      method: 'delete',
      path: '/users/me/grants',
      summary: "Revoke every app's access but the caller's",
      description: 'Every grant of the user, with its codes and tokens, except the grant the access token of this request belongs to.',
      scope: 'openid',
      replies: { 204: { description: 'Revoked.' } },
      problems: storageProblems,
    },
    async (ctx) => {
      const { user, grantId } = callerOf(ctx);
      await connectedApps.revokeAll(user.id, { exceptGrantId: grantId });
      return { status: 204 };
    },
  );

  routes.add(
    {
      id: 'revokeGrant',
      method: 'delete',
      path: '/users/me/grants/:id',
      summary: "Revoke an app's access",
      description: "The grant and every code and token issued under it; the app's next refresh fails with invalid_grant. Another user's grant is answered as unknown.",
      scope: 'openid',
      replies: { 204: { description: 'Revoked.' } },
      problems: ['not_found', ...storageProblems],
    },
    async (ctx) => {
      await connectedApps.revoke(callerOf(ctx).user.id, idOf(ctx.params));
      return { status: 204 };
    },
  );

  routes.add(
    { id: 'listSessions', method: 'get', path: '/users/me/sessions', summary: "List the signed-in user's sessions", scope: 'openid', replies: { 200: { description: 'Every session, the current one first.', body: sessionListSchema } }, problems: storageProblems },
    async (ctx) => {
      const { user, sessionUid } = callerOf(ctx);
      return { status: 200, body: { sessions: (await sessions.list(user.id, sessionUid)).map(presentSession) } };
    },
  );

  routes.add(
    {
      id: 'endSessions',
      method: 'delete',
      path: '/users/me/sessions',
      summary: 'Sign out every other session',
      description: 'Every session of the user except the one the access token of this request was issued in.',
      scope: 'openid',
      replies: { 204: { description: 'Signed out.' } },
      problems: storageProblems,
    },
    async (ctx) => {
      const { user, sessionUid } = callerOf(ctx);
      await sessions.endOthers(user.id, sessionUid);
      return { status: 204 };
    },
  );

  routes.add(
    {
      id: 'endSession',
      method: 'delete',
      path: '/users/me/sessions/:id',
      summary: 'Sign a session out',
      description: "Ends the session, as signing out in that browser would: the grants made in it without offline_access go with it, with their tokens. Another user's session is answered as unknown.",
      scope: 'openid',
      replies: { 204: { description: 'Signed out.' } },
      problems: ['not_found', ...storageProblems],
    },
    async (ctx) => {
      await sessions.end(callerOf(ctx).user.id, idOf(ctx.params));
      return { status: 204 };
    },
  );
}
