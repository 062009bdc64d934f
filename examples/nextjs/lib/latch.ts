import type { JWT } from 'next-auth/jwt';

/** Everything this app asks Latch directly, beyond what NextAuth does for it: renewing tokens, its REST API, logout. */

const issuer = process.env.AUTH_LATCH_ISSUER;

interface Discovery {
  token_endpoint: string;
  end_session_endpoint: string;
}

interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
}

/** GET /api/v1/users/me: the account, in OpenID Connect claim names, flat as userinfo has them. */
export interface LatchUser {
  id: string;
  email: string;
  email_verified: boolean;
  name: string | null;
  updated_at: string;
}

export class LatchError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function discover(): Promise<Discovery> {
  return json(await fetch(`${issuer}/.well-known/openid-configuration`));
}

/**
 * Trades the refresh token for new tokens. Latch rotates refresh tokens: the old one is spent
 * now, and presenting it again would end the whole sign-in, so the caller must keep the new one.
 */
export async function refreshTokens(token: JWT): Promise<JWT> {
  if (!token.refreshToken) throw new LatchError(401, 'no refresh token: sign in again');
  const { token_endpoint } = await discover();
  const credentials = `${encodeURIComponent(process.env.AUTH_LATCH_ID ?? '')}:${encodeURIComponent(process.env.AUTH_LATCH_SECRET ?? '')}`;
  const tokens = await json<TokenResponse>(
    await fetch(token_endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token.refreshToken }),
    }),
  );
  return {
    ...token,
    accessToken: tokens.access_token,
    expiresAt: Math.floor(Date.now() / 1000) + tokens.expires_in,
    refreshToken: tokens.refresh_token ?? token.refreshToken,
    idToken: tokens.id_token ?? token.idToken,
  };
}

export async function getMe(accessToken: string): Promise<LatchUser> {
  return json(await fetch(`${issuer}/api/v1/users/me`, { headers: { authorization: `Bearer ${accessToken}` } }));
}

/** PATCH /api/v1/users/me: the claims to change, e.g. { name: 'Ada' }; null clears one. */
export async function updateMe(accessToken: string, changes: { name: string | null }): Promise<LatchUser> {
  return json(
    await fetch(`${issuer}/api/v1/users/me`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(changes),
    }),
  );
}

/** RP-initiated logout: where to send the browser so that Latch signs the user out too, then sends them back. */
export async function endSessionUrl(idToken: string, postLogoutRedirectUri: string): Promise<string> {
  const { end_session_endpoint } = await discover();
  const url = new URL(end_session_endpoint);
  url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: postLogoutRedirectUri }).toString();
  return url.href;
}

/** The body of a successful response; Latch's errors (OAuth's, or RFC 9457 problem documents) as a LatchError. */
async function json<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({}))) as T & { error_description?: string; error?: string; detail?: string; title?: string };
  if (!response.ok) {
    throw new LatchError(response.status, body.error_description ?? body.error ?? body.detail ?? body.title ?? `HTTP ${response.status}`);
  }
  return body;
}
