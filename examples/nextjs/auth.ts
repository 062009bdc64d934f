import type { AuthOptions } from 'next-auth';
import type { OAuthConfig } from 'next-auth/providers/oauth';

/** The claims NextAuth reads from Latch's ID token (the `openid email profile` scopes). */
interface LatchProfile {
  sub: string;
  name?: string;
  email?: string;
  picture?: string;
  /** How the user signed in (RFC 8176): `pwd`, `hwk` or `swk` with `user` for a passkey, `mfa`, ... */
  amr?: string[];
}

/** Latch, as `npm run latch -- clients create` describes it: an OpenID Connect provider found by discovery. */
const latch: OAuthConfig<LatchProfile> = {
  id: 'latch', // the callback is /api/auth/callback/latch: register that redirect URI
  name: 'Latch',
  type: 'oauth',
  wellKnown: `${process.env.AUTH_LATCH_ISSUER}/.well-known/openid-configuration`,
  clientId: process.env.AUTH_LATCH_ID,
  clientSecret: process.env.AUTH_LATCH_SECRET,
  // offline_access: a refresh token, to renew the short-lived access token without the user.
  // OpenID Connect grants it only with prompt=consent: a third-party app's user sees Latch's
  // consent page; an app its admin made first-party does not.
  authorization: { params: { scope: 'openid email profile offline_access', prompt: 'consent' } },
  idToken: true, // the profile comes from the verified ID token
  checks: ['pkce', 'state'],
  profile: (profile) => ({ id: profile.sub, name: profile.name ?? null, email: profile.email ?? null, image: profile.picture ?? null }),
};

export const authOptions: AuthOptions = {
  providers: [latch],
  secret: process.env.AUTH_SECRET,
  // The session is NextAuth's encrypted cookie, and Latch's tokens live in it, never in the browser's reach.
  session: { strategy: 'jwt' },
  callbacks: {
    // Called with `account` once, at sign-in. Renewing the access token is proxy.ts's job: only
    // there can the rotated tokens be written back to the cookie before any page reads them.
    jwt({ token, account, profile }) {
      if (!account) return token;
      return {
        ...token,
        accessToken: account.access_token,
        refreshToken: account.refresh_token,
        expiresAt: account.expires_at,
        idToken: account.id_token,
        amr: (profile as LatchProfile | undefined)?.amr,
      };
    },
  },
};

declare module 'next-auth/jwt' {
  interface JWT {
    accessToken?: string;
    refreshToken?: string;
    /** When the access token expires, in seconds since the epoch. */
    expiresAt?: number;
    /** Kept for RP-initiated logout (id_token_hint). */
    idToken?: string;
    /** The ID token's amr at sign-in. */
    amr?: string[];
  }
}
