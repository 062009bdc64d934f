import { errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { AccountService } from '../account/account-service.js';
import type { User } from '../account/user.js';
import { permissionsOf, type Entitlements, type Subject } from '../authorization/entitlements.js';
import { ADMIN_SCOPE } from '../authorization/seed.js';
import { ForbiddenError, InsufficientScopeError, UnauthorizedError } from '../errors.js';
import { accessTokenReference } from '../provider/access-token-references.js';
import { SIGNING_ALGORITHMS, verificationKeys } from '../provider/keys/key-ring.js';

/** Who a request authenticated as: a user, through a client's access token. */
export interface Caller {
  user: User;
  scopes: ReadonlySet<string>;
  /** The grant the token was issued under, and the session it was issued in (absent for some grants). */
  grantId: string;
  sessionUid?: string;
}

/** Who is administering: the audit log's actor, a user id or `client:<client id>`. */
export interface AdminCaller {
  actor: string;
}

declare module 'koa' {
  interface DefaultState {
    /** Set by BearerAuth.require once the request's access token is verified. */
    caller?: Caller;
    /** Set by BearerAuth.requireAdmin. */
    admin?: AdminCaller;
  }
}

export interface BearerAuth {
  /** Authenticates the request as a user whose access token was granted `scope`; sets ctx.state.caller. */
  require(scope: string): Middleware;
  /**
   * Authenticates an administrator: an access token for Latch's API with the `admin` scope, of an
   * active user or of a client that still exists (client credentials), whose roles still grant
   * `admin`; sets ctx.state.admin.
   */
  requireAdmin(): Middleware;
}

export interface BearerAuthDependencies {
  issuer: string;
  /** config.oidc.apiResource: tokens for any other resource server are refused. */
  audience: string;
  /** The key ring's current public keys (they change with rotation). */
  publicJwks: () => JSONWebKeySet;
  /** config.secrets.keyEncryptionKey, from which access token references are derived. */
  keyEncryptionKey: Buffer;
  /** The provider serving now: its token models decide whether a token is still active. */
  provider: () => Provider;
  accounts: Pick<AccountService, 'findActive'>;
  /** Whether the admin's roles still grant `admin`: a role taken away ends administration at once. */
  entitlements: Entitlements;
  now: () => Date;
}

/** Latch's clocks are the same machine's or NTP-close; this only absorbs the odd second. */
const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * RFC 6750 bearer authentication of Latch's own JWT access tokens (RFC 9068). The signature,
 * issuer, audience, type and lifetime are checked offline; then the token's record in the store
 * (see access-token-references.ts) is looked up through oidc-provider's own AccessToken model, so
 * that a token that is no longer active anywhere (revoked, its grant revoked, its code replayed,
 * its refresh token reused, its session ended) stops working here at the same moment.
 */
export function createBearerAuth({ issuer, audience, publicJwks, keyEncryptionKey, provider, accounts, entitlements, now }: BearerAuthDependencies): BearerAuth {
  const referenceOf = accessTokenReference(keyEncryptionKey);

  const keys = verificationKeys(publicJwks);

  async function verifiedJti(token: string): Promise<string> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience,
        typ: 'at+jwt',
        algorithms: [...SIGNING_ALGORITHMS],
        requiredClaims: ['jti', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: now(),
      }));
    } catch (error) {
      throw verificationFailure(error);
    }
    if (typeof payload.jti !== 'string') throw invalidToken("The access token's jti claim is not valid.", 'the jti claim is not valid');
    return payload.jti;
  }

  type ActiveToken = { kind: 'user'; token: InstanceType<Provider['AccessToken']> } | { kind: 'client'; token: InstanceType<Provider['ClientCredentials']> };

  /** The token's record, through oidc-provider's models: an access token of a user's grant, or a client's own. */
  async function activeToken(ctx: Context): Promise<ActiveToken> {
    const reference = referenceOf(await verifiedJti(bearerTokenOf(ctx)));
    const { AccessToken, ClientCredentials } = provider();
    const found: ActiveToken | undefined = await AccessToken.find(reference).then(async (token) => {
      if (token) return { kind: 'user', token } as const;
      const own = await ClientCredentials.find(reference);
      return own ? ({ kind: 'client', token: own } as const) : undefined;
    });
    if (!found) throw invalidToken('The access token is no longer active: it was revoked, or its grant or session ended.', 'the access token is not active');
    // This API checks no DPoP or mTLS proof: taking a sender-constrained token as a bearer one would undo its binding.
    if (found.token.isSenderConstrained()) throw invalidToken('The access token is sender-constrained; this API accepts bearer tokens only.', 'sender-constrained tokens are not accepted');
    return found;
  }

  async function activeUser(accountId: string): Promise<User> {
    const user = await accounts.findActive(accountId);
    if (!user) throw invalidToken('The account the access token was issued for is not active.', 'the account is not active');
    return user;
  }

  async function existingClient(clientId: string | undefined): Promise<void> {
    if (clientId === undefined || !(await provider().Client.find(clientId))) throw invalidToken('The client the access token was issued to no longer exists.', 'the client does not exist');
  }

  async function authenticate(ctx: Context): Promise<Caller> {
    const active = await activeToken(ctx);
    if (active.kind === 'client') {
      throw new ForbiddenError('This resource belongs to a user; the access token was issued to a client alone (client credentials) and acts for no user.');
    }
    const { token } = active;
    const user = await activeUser(token.accountId);
    return { user, scopes: token.scopes, grantId: token.grantId, sessionUid: token.sessionUid };
  }

  async function authenticateAdmin(ctx: Context): Promise<AdminCaller> {
    const active = await activeToken(ctx);
    if (!active.token.scopes.has(ADMIN_SCOPE)) throw new InsufficientScopeError(ADMIN_SCOPE);
    // The subject's existence and its roles are read at once (every console page waits for both);
    // a subject that no longer exists is refused as such, whatever its roles.
    const subject: Subject = active.kind === 'user' ? { kind: 'user', id: active.token.accountId } : { kind: 'client', id: active.token.clientId ?? '' };
    const [, roles] = await Promise.all([
      active.kind === 'user' ? activeUser(subject.id) : existingClient(active.token.clientId),
      entitlements.rolesOf(subject, audience),
    ]);
    if (!permissionsOf(roles).has(ADMIN_SCOPE)) throw new InsufficientScopeError(ADMIN_SCOPE);
    return { actor: subject.kind === 'user' ? subject.id : `client:${subject.id}` };
  }

  return {
    require(scope) {
      return async (ctx, next) => {
        const caller = await authenticate(ctx);
        if (!caller.scopes.has(scope)) throw new InsufficientScopeError(scope);
        ctx.state.caller = caller;
        await next();
      };
    },
    requireAdmin() {
      return async (ctx, next) => {
        ctx.state.admin = await authenticateAdmin(ctx);
        await next();
      };
    },
  };
}

/** The caller set by BearerAuth.require; a route that reads it without that middleware is a bug. */
export function callerOf(ctx: Context): Caller {
  const { caller } = ctx.state;
  if (!caller) throw new Error(`${ctx.method} ${ctx.path} reads the caller without requiring bearer authentication`);
  return caller;
}

/** The administrator set by BearerAuth.requireAdmin; a route that reads it without that middleware is a bug. */
export function adminOf(ctx: Context): AdminCaller {
  const { admin } = ctx.state;
  if (!admin) throw new Error(`${ctx.method} ${ctx.path} reads the administrator without requiring admin authentication`);
  return admin;
}

/** The token of an `Authorization: Bearer` header. Other ways of sending one (RFC 6750 §2.2, §2.3) are not accepted. */
function bearerTokenOf(ctx: Context): string {
  const header = ctx.get('Authorization');
  const [scheme, ...rest] = header.split(' ');
  if (header === '' || scheme?.toLowerCase() !== 'bearer') {
    throw new UnauthorizedError('This request needs an access token, sent as "Authorization: Bearer <token>".');
  }
  const token = rest.join(' ').trim();
  // RFC 6750 §2.1 b64token syntax; a JWT is three of those parts.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw invalidToken('The access token is malformed.', 'the access token is malformed');
  return token;
}

function invalidToken(message: string, description: string, cause?: unknown): UnauthorizedError {
  return new UnauthorizedError(message, { error: 'invalid_token', description }, { cause });
}

/** jose's verdict, worded for the developer reading the WWW-Authenticate header. */
function verificationFailure(error: unknown): UnauthorizedError {
  if (error instanceof joseErrors.JWTExpired) return invalidToken('The access token has expired.', 'the access token expired', error);
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') return invalidToken('The access token was issued for another resource server.', 'the access token is for another audience', error);
    return invalidToken(`The access token's ${error.claim} claim is not valid.`, `the ${error.claim} claim is not valid`, error);
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JOSEAlgNotAllowed) {
    return invalidToken('The access token is not signed by Latch.', 'the signature could not be verified', error);
  }
  if (error instanceof joseErrors.JOSEError) return invalidToken('The access token is malformed.', 'the access token is malformed', error);
  throw error;
}
