import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import type { Context } from 'koa';
import type { Logger } from '../logger.js';
import { CONSOLE_CALLBACK_PATH, CONSOLE_CLIENT_ID, CONSOLE_PATH, CONSOLE_SCOPE } from './console-client.js';
import type { ConsoleTokens, PendingSignIn, SealedCookie } from './console-session.js';
import { ConsoleSignInError } from './errors.js';

export interface ConsoleSignIn {
  /** Sends the browser through Latch's sign-in pages; `maxAge` 0 asks the administrator to sign in again whatever their session. */
  start(ctx: Context, options: { returnTo: string; maxAge?: number }): Promise<void>;
  /** GET /admin/callback: redeems the code, keeps the tokens, goes back where the sign-in began. */
  finish(ctx: Context): Promise<void>;
  /** New tokens from the refresh token, or undefined when the grant no longer allows any (revoked, disabled, expired). */
  refresh(tokens: ConsoleTokens): Promise<ConsoleTokens | undefined>;
  /** Revokes the refresh token at Latch's revocation endpoint (RFC 7009), and with it the console's grant. */
  revoke(refreshToken: string): Promise<void>;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/** A console path to return to, never an address elsewhere (no open redirect through the callback). */
export function consolePath(candidate: string): string {
  return candidate === CONSOLE_PATH || (candidate.startsWith(`${CONSOLE_PATH}/`) && !candidate.startsWith(`${CONSOLE_PATH}//`)) ? candidate : CONSOLE_PATH;
}

/**
 * The console is an ordinary OpenID Connect relying party of the Latch it runs in: authorization
 * code with PKCE through the same sign-in pages every app uses, then the code redeemed at Latch's
 * token endpoint over HTTP like any client would, so the console's tokens are issued, filtered by
 * roles, refreshed and revoked by the same rules as everyone's. The one consequence: ISSUER must be
 * reachable from Latch itself.
 */
export function createConsoleSignIn({ issuer, consoleUrl, pending, session, logger, now, fetch: post = fetch }: {
  issuer: string;
  /** Where the console is served: the issuer, or the admin listener's URL. */
  consoleUrl: string;
  now: () => Date;
  pending: SealedCookie<PendingSignIn>;
  session: SealedCookie<ConsoleTokens>;
  logger: Logger;
  fetch?: typeof fetch;
}): ConsoleSignIn {
  const redirectUri = `${consoleUrl}${CONSOLE_CALLBACK_PATH}`;

  const send = (path: string, parameters: Record<string, string>) =>
    post(`${issuer}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, ...parameters }),
    });

  async function tokenRequest(parameters: Record<string, string>): Promise<TokenResponse | undefined> {
    const response = await send('/token', parameters);
    const body = (await response.json()) as Partial<TokenResponse> & { error?: string };
    if (!response.ok || typeof body.access_token !== 'string') {
      logger.info({ event: 'console.token_refused', grant_type: parameters.grant_type, error: body.error }, 'console token request refused');
      return undefined;
    }
    return body as TokenResponse;
  }

  /**
   * The ID token came straight from the token endpoint over the connection Latch opened to itself,
   * so its contents are taken as sent (OpenID Connect Core §3.1.3.7 lets TLS stand in for the
   * signature there); only auth_time is read from it. Identity and rights come from the access
   * token, which the guard verifies on every request.
   */
  const authTimeOf = (response: TokenResponse, fallback: number) => {
    const authTime = response.id_token ? decodeJwt(response.id_token).auth_time : undefined;
    return typeof authTime === 'number' ? authTime : fallback;
  };

  return {
    async start(ctx, { returnTo, maxAge }) {
      const state = randomBytes(32).toString('base64url');
      const codeVerifier = randomBytes(32).toString('base64url');
      await pending.write(ctx, { state, codeVerifier, returnTo: consolePath(returnTo) });
      const url = new URL(`${issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: CONSOLE_CLIENT_ID,
        response_type: 'code',
        scope: CONSOLE_SCOPE,
        redirect_uri: redirectUri,
        state,
        code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
        code_challenge_method: 'S256',
        ...(maxAge === undefined ? {} : { max_age: String(maxAge) }),
      }).toString();
      ctx.status = 303;
      ctx.redirect(url.href);
    },

    async finish(ctx) {
      const expected = await pending.read(ctx);
      const { state, code, error } = ctx.query;
      if (!expected || state !== expected.state) throw new ConsoleSignInError('state_mismatch');
      pending.clear(ctx);
      // The console's client requires a second factor: the sign-in answers this when the administrator declined to set one up.
      if (error === 'unmet_authentication_requirements') throw new ConsoleSignInError('second_factor_missing');
      if (typeof error === 'string' || typeof code !== 'string') throw new ConsoleSignInError('cancelled');
      const tokens = await tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: expected.codeVerifier });
      if (!tokens) throw new ConsoleSignInError('code_refused');
      await session.write(ctx, { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, authTime: authTimeOf(tokens, Math.floor(now().getTime() / 1000)) });
      ctx.status = 303;
      ctx.redirect(expected.returnTo);
    },

    async refresh(tokens) {
      if (!tokens.refreshToken) return undefined;
      const refreshed = await tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken });
      if (!refreshed) return undefined;
      return { accessToken: refreshed.access_token, refreshToken: refreshed.refresh_token ?? tokens.refreshToken, authTime: authTimeOf(refreshed, tokens.authTime) };
    },

    async revoke(refreshToken) {
      const response = await send('/token/revocation', { token: refreshToken, token_type_hint: 'refresh_token' });
      await response.arrayBuffer();
      if (!response.ok) logger.warn({ event: 'console.revocation_refused', status: response.status }, 'console refresh token revocation refused');
    },
  };
}
