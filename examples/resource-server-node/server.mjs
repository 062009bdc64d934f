/**
 * A resource server that accepts Latch access tokens: a minimal one, made to be copied.
 *
 * Latch issues access tokens as signed JWTs (RFC 9068) for each resource server named in its
 * RESOURCE_SERVERS setting, so a service checks them itself, offline: no call to Latch per
 * request, only an occasional fetch of Latch's public keys (its JWKS).
 *
 * Run it with Node.js 20 or later. Its one dependency is jose (package.json beside this file):
 * inside the Latch repository the repository's own copy is found; elsewhere, `npm install` first.
 *
 *   LATCH_ISSUER=https://id.example.com AUDIENCE=https://orders.example.com node server.mjs
 *
 * and tell Latch about it (the scopes it accepts, space-separated):
 *
 *   RESOURCE_SERVERS='{"https://orders.example.com": "orders:read orders:write"}'
 *
 * A client then asks Latch for a token for this resource: with client credentials as below, or
 * with the same `resource` parameter in the authorization request of the authorization code flow.
 *
 *   TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials \
 *     -d resource=https://orders.example.com -d scope=orders:read https://id.example.com/token | jq -r .access_token)
 *   curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/orders
 *
 * Settings, from the environment:
 *   LATCH_ISSUER     Latch's ISSUER, exactly as its discovery document states it (required)
 *   AUDIENCE         this service's resource indicator, as listed in RESOURCE_SERVERS (required)
 *   REQUIRED_SCOPE   the scope GET /orders needs (default orders:read)
 *   PORT, HOST       where to listen (default 8080 on 127.0.0.1)
 *
 * What is checked, and why:
 *   - the signature, with a key of Latch's JWKS, found through its discovery document. jose fetches
 *     the JWKS again when a token names a key it has not seen, so Latch's key rotation needs
 *     nothing here: Latch publishes a key a day before signing with it, and keeps a retired key
 *     published until the last token it signed has expired.
 *   - the algorithm is RS256, the one Latch signs access tokens with: never what the token asks for.
 *   - typ is at+jwt: an ID token, also signed by Latch, is not an access token (RFC 9068 §4).
 *   - iss is LATCH_ISSUER and aud is AUDIENCE: a token for another service, or for Latch's own
 *     API, is refused even though Latch signed it.
 *   - exp, and the other claims RFC 9068 requires. There is no clock leeway: keep this host's
 *     clock in sync (NTP), or pass jwtVerify a `clockTolerance` of a few seconds.
 *   - the scope claim holds REQUIRED_SCOPE.
 *
 * Refusals follow RFC 6750 §3: 401 with `WWW-Authenticate: Bearer ...` (error="invalid_token" when
 * a token was sent), and 403 with error="insufficient_scope" and the scope needed.
 *
 * What an offline check cannot see: a token revoked at Latch works here until it expires
 * (ACCESS_TOKEN_TTL, 10 minutes by default). Where that matters, ask Latch's introspection
 * endpoint (RFC 7662) instead, or as well.
 */
import { createServer } from 'node:http';
import process from 'node:process';
import { URL } from 'node:url';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

const { LATCH_ISSUER, AUDIENCE, REQUIRED_SCOPE = 'orders:read', HOST = '127.0.0.1', PORT = '8080' } = process.env;
if (!LATCH_ISSUER || !AUDIENCE) {
  process.stderr.write('Set LATCH_ISSUER (Latch\'s issuer) and AUDIENCE (this service\'s resource indicator).\n');
  process.exit(1);
}

const discovery = await fetch(`${LATCH_ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`);
if (!discovery.ok) throw new Error(`Latch's discovery document answered ${discovery.status}`);
const metadata = await discovery.json();
// Tokens are checked against this issuer, so it must be the one Latch itself states.
if (metadata.issuer !== LATCH_ISSUER) throw new Error(`Latch states its issuer as ${metadata.issuer}: set LATCH_ISSUER to exactly that`);
const latchKeys = createRemoteJWKSet(new URL(metadata.jwks_uri));

/** A refusal: the status, and the RFC 6750 parameters of its WWW-Authenticate challenge. */
class Refusal extends Error {
  constructor(status, params = {}) {
    super(params.error_description ?? 'no access token');
    this.status = status;
    this.params = params;
  }
}

const invalidToken = (description) => new Refusal(401, { error: 'invalid_token', error_description: description });

/** The verified claims of the request's access token, which must carry `scope`. */
async function authorize(request, scope) {
  const [scheme, token, ...rest] = (request.headers.authorization ?? '').split(' ');
  if (scheme.toLowerCase() !== 'bearer' || !token || rest.length > 0) throw new Refusal(401);
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, latchKeys, {
      issuer: LATCH_ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw invalidToken('the access token expired');
    if (error instanceof errors.JWTClaimValidationFailed) throw invalidToken(`the ${error.claim} claim is not valid`);
    // A JWKS that cannot be fetched is this side's problem, not the token's: it ends as a 503 below.
    if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout)) throw invalidToken('the access token is not valid');
    throw error;
  }
  const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (!granted.includes(scope)) throw new Refusal(403, { error: 'insufficient_scope', error_description: `the ${scope} scope is required`, scope });
  return claims;
}

function send(response, status, body, headers = {}) {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

const server = createServer(async (request, response) => {
  const { pathname } = new URL(request.url, 'http://resource-server');
  if (request.method !== 'GET' || pathname !== '/orders') return send(response, 404, { error: 'not_found' });
  try {
    const claims = await authorize(request, REQUIRED_SCOPE);
    send(response, 200, { orders: [{ id: 'order-1', total: '12.50' }], client_id: claims.client_id, sub: claims.sub });
  } catch (error) {
    if (!(error instanceof Refusal)) {
      process.stderr.write(`cannot check the token: ${error.message}\n`);
      return send(response, 503, { error: 'temporarily_unavailable' }, { 'Retry-After': '5' });
    }
    const challenge = Object.entries({ realm: 'orders', ...error.params }).map(([name, value]) => `${name}="${value}"`);
    send(response, error.status, { error: error.params.error ?? 'unauthorized', error_description: error.message }, { 'WWW-Authenticate': `Bearer ${challenge.join(', ')}` });
  }
});

server.listen(Number(PORT), HOST, () => process.stdout.write(`resource server on http://${HOST}:${PORT}, accepting tokens of ${LATCH_ISSUER} for ${AUDIENCE}\n`));
