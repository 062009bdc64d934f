import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { parse as parseQuery, stringify as stringifyQuery } from 'node:querystring';
import { decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Context, Middleware } from 'koa';
import type { AccessToken, ClientCredentials, KoaContextWithOIDC, RefreshToken } from 'oidc-provider';
import { verificationKeys } from './keys/key-ring.js';

/**
 * RFC 9068 JWT access tokens are self-contained, so oidc-provider does not store them, and
 * therefore cannot introspect, revoke or accept them at userinfo. Latch closes that gap with the
 * library's own store: when a JWT access token is issued, what it stands for is saved as an
 * access token record under a *reference* (an HMAC of its jti, so neither a token's jti nor a
 * database row can be replayed as a bearer token). In front of the provider, a JWT presented at
 * userinfo, introspection or revocation is verified and swapped for its reference; from there on
 * oidc-provider does what it does for any stored token: grant revocation, code replay and refresh
 * token reuse all delete the record through revokeByGrantId, and the token becomes inactive.
 */

export const PROTOCOL_ROUTES = {
  userinfo: '/me',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
} as const;

/** Same bound as oidc-provider's own body reader. */
const BODY_LIMIT_BYTES = 56 * 1024;

/** Userinfo refuses stored tokens that carry an audience; the audience stays in the JWT. */
const NOT_STORED = new Set(['aud']);

type Presented = { jti: string; aud: JWTPayload['aud'] };

declare module 'koa' {
  interface DefaultState {
    /** Set when the token presented to a protocol endpoint was a JWT access token Latch verified. */
    presentedAccessToken?: Presented;
  }
}

export interface AccessTokenReferences {
  /** formats.customizers.jwt: stores the record before the token is signed and handed out. */
  record(ctx: KoaContextWithOIDC, token: AccessToken | ClientCredentials, jwt: { payload: JWTPayload }): Promise<void>;
  /** Mounted in front of the provider. */
  middleware(): Middleware;
  /** features.introspection/revocation allowedPolicy: access tokens only by way of their JWT. */
  presentedAsJwt(ctx: KoaContextWithOIDC, token: AccessToken | ClientCredentials | RefreshToken): boolean;
  /** The audiences of the JWT access token presented in this request, as it was verified; none for anything else. */
  presentedAudiences(ctx: KoaContextWithOIDC): string[];
}

/** jti → the id of the token's record in the store; Latch's REST API looks its tokens up by the same. */
export function accessTokenReference(keyEncryptionKey: Buffer): (jti: string) => string {
  // A key of its own, derived so that no second secret has to be configured.
  const referenceKey = Buffer.from(hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), 'latch access token reference', 32));
  return (jti) => createHmac('sha256', referenceKey).update(jti).digest('base64url');
}

export function createAccessTokenReferences({
  issuer,
  keyEncryptionKey,
  publicJwks,
}: {
  issuer: string;
  keyEncryptionKey: Buffer;
  /** The key ring's current public keys (they change with rotation). */
  publicJwks: () => JSONWebKeySet;
}): AccessTokenReferences {
  const referenceOf = accessTokenReference(keyEncryptionKey);

  const keys = verificationKeys(publicJwks);

  /** The reference of a valid Latch JWT access token, or a value that matches nothing. */
  async function translate(ctx: Context, value: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(value, keys, { issuer, typ: 'at+jwt' });
      if (typeof payload.jti !== 'string') throw new Error('no jti');
      ctx.state.presentedAccessToken = { jti: payload.jti, aud: payload.aud };
      return referenceOf(payload.jti);
    } catch {
      return `invalid.${randomBytes(16).toString('base64url')}`;
    }
  }

  return {
    async record(_ctx, token, jwt) {
      const { jti, iat, exp } = jwt.payload;
      if (typeof jti !== 'string' || typeof exp !== 'number') throw new TypeError('a JWT access token without jti or exp');
      const fields = (token.constructor as unknown as { IN_PAYLOAD: string[] }).IN_PAYLOAD;
      const payload = Object.fromEntries(
        fields.filter((field) => !NOT_STORED.has(field)).map((field) => [field, (token as unknown as Record<string, unknown>)[field]]),
      );
      const reference = referenceOf(jti);
      await token.adapter.upsert(reference, { ...payload, kind: token.kind, jti: reference, iat, exp }, exp - Math.floor(Date.now() / 1000));
    },

    middleware() {
      return async (ctx, next) => {
        const field = fieldFor(ctx.path);
        if (!field) return next();

        if (field === 'access_token') {
          const bearer = /^Bearer (\S+)$/i.exec(ctx.get('Authorization'))?.[1];
          if (bearer) ctx.req.headers.authorization = `Bearer ${isJwt(bearer) ? await translate(ctx, bearer) : `invalid.${bearer.length}`}`;
        }
        if (ctx.method === 'POST' && ctx.is('application/x-www-form-urlencoded')) {
          // Read here, once; oidc-provider then reads the rewritten form as it reads any body.
          const body = await readBody(ctx);
          if (body === undefined) {
            ctx.status = 400;
            ctx.body = { error: 'invalid_request', error_description: 'request body too large' };
            return;
          }
          const form = parseQuery(body);
          const value = form[field];
          if (typeof value === 'string' && isJwt(value)) form[field] = await translate(ctx, value);
          replayBody(ctx, stringifyQuery(form));
        }

        await next();

        const presented = ctx.state.presentedAccessToken;
        if (field === 'token' && presented && isActiveIntrospection(ctx.body)) {
          // The record's jti is its reference and it holds no audience: answer with the token's own.
          ctx.body = { ...ctx.body, jti: presented.jti, aud: presented.aud };
        }
      };
    },

    presentedAsJwt(ctx, token) {
      return token.kind === 'RefreshToken' || ctx.state.presentedAccessToken !== undefined;
    },

    presentedAudiences(ctx) {
      const audience = ctx.state.presentedAccessToken?.aud;
      return audience === undefined ? [] : [audience].flat();
    },
  };
}

function fieldFor(path: string): 'access_token' | 'token' | undefined {
  if (path === PROTOCOL_ROUTES.userinfo) return 'access_token';
  if (path === PROTOCOL_ROUTES.introspection || path === PROTOCOL_ROUTES.revocation) return 'token';
  return undefined;
}

function isJwt(value: string): boolean {
  try {
    decodeProtectedHeader(value);
    return value.split('.').length === 3;
  } catch {
    return false;
  }
}

function isActiveIntrospection(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && (body as { active?: unknown }).active === true;
}

/** The body as text, or undefined when it is over the limit. */
async function readBody(ctx: Context): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > BODY_LIMIT_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Gives the handlers below a request whose body is `body`, as a stream not yet read. oidc-provider
 * then parses it as it parses any body; handed an already parsed body instead, it warns that an
 * upstream body parser is in the way.
 */
function replayBody(ctx: Context, body: string): void {
  const bytes = Buffer.from(body);
  const original = ctx.req;
  const replay = new IncomingMessage(original.socket);
  const headers = { ...original.headers, 'content-length': String(bytes.length) };
  delete headers['transfer-encoding'];
  Object.assign(replay, { method: original.method, url: original.url, httpVersion: original.httpVersion, headers, complete: true });
  replay.push(bytes);
  replay.push(null);
  ctx.req = ctx.request.req = replay;
}
