import type { ClientSummary } from '../provider/client-admin.js';

/** What NextAuth (Auth.js) asks for, and where it calls back: <app>/api/auth/callback/<provider id>. */
export const NEXTAUTH_PROVIDER_ID = 'latch';
const NEXTAUTH_SCOPE = 'openid email profile offline_access';

/** Where NextAuth calls back for Latch, in an app served at `appUrl`. */
export const nextAuthCallback = (appUrl: string) => `${appUrl.replace(/\/+$/, '')}/api/auth/callback/${NEXTAUTH_PROVIDER_ID}`;

/** The .env.local lines of a NextAuth app signing in with this client, as the CLI prints them and the console shows them. */
export function nextAuthEnvironment({ issuer, client, clientSecret }: { issuer: string; client: ClientSummary; clientSecret?: string }): { line: string; note?: string }[] {
  return [
    { line: `AUTH_LATCH_ISSUER=${issuer}` },
    { line: `AUTH_LATCH_ID=${client.clientId}` },
    ...(clientSecret === undefined ? [] : [{ line: `AUTH_LATCH_SECRET=${clientSecret}` }]),
    { line: 'AUTH_SECRET=<openssl rand -base64 32>', note: 'encrypts the session cookie' },
    ...(client.postLogoutRedirectUris[0] ? [{ line: `NEXTAUTH_URL=${client.postLogoutRedirectUris[0]}`, note: 'the app, exactly as registered for sign-out' }] : []),
  ];
}

/** The provider entry of the NextAuth options (auth.ts), line by line. */
export function nextAuthProvider(client: ClientSummary, confidential: boolean): string[] {
  return [
    '{',
    `  id: '${NEXTAUTH_PROVIDER_ID}',`,
    "  name: 'Latch',",
    // NextAuth 4 (its stable line): the generic provider takes the discovery document.
    "  type: 'oauth',",
    '  wellKnown: `${process.env.AUTH_LATCH_ISSUER}/.well-known/openid-configuration`,',
    '  clientId: process.env.AUTH_LATCH_ID,',
    // A public client proves nothing with a secret; Auth.js must be told to send none.
    ...(confidential ? ['  clientSecret: process.env.AUTH_LATCH_SECRET,'] : ["  client: { token_endpoint_auth_method: 'none' },"]),
    `  authorization: { params: { scope: '${NEXTAUTH_SCOPE}', prompt: 'consent' } },`,
    '  idToken: true,',
    "  checks: ['pkce', 'state'],",
    '  profile: (profile) => ({ id: profile.sub, name: profile.name, email: profile.email }),',
    '}',
  ];
}
