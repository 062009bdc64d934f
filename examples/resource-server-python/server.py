"""A resource server that accepts Latch access tokens: a minimal one, made to be copied.

Latch issues access tokens as signed JWTs (RFC 9068) for each resource server named in its
RESOURCE_SERVERS setting, so a service checks them itself, offline: no call to Latch per
request, only an occasional fetch of Latch's public keys (its JWKS).

It needs Python 3.9 or later and PyJWT with its crypto extra, nothing else:

    pip install "pyjwt[crypto]"          # or, on Debian/Ubuntu: apt-get install python3-jwt
    LATCH_ISSUER=https://id.example.com AUDIENCE=https://orders.example.com python3 server.py

and tell Latch about it (the scopes it accepts, space-separated):

    RESOURCE_SERVERS='{"https://orders.example.com": "orders:read orders:write"}'

A client then asks Latch for a token for this resource: with client credentials as below, or
with the same `resource` parameter in the authorization request of the authorization code flow.

    TOKEN=$(curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials \
      -d resource=https://orders.example.com -d scope=orders:read https://id.example.com/token | jq -r .access_token)
    curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/orders

Settings, from the environment:
    LATCH_ISSUER     Latch's ISSUER, exactly as its discovery document states it (required)
    AUDIENCE         this service's resource indicator, as listed in RESOURCE_SERVERS (required)
    REQUIRED_SCOPE   the scope GET /orders needs (default orders:read)
    PORT, HOST       where to listen (default 8080 on 127.0.0.1)

What is checked, and why:
  - the signature, with a key of Latch's JWKS, found through its discovery document. PyJWKClient
    fetches the JWKS again when a token names a key it has not seen, so Latch's key rotation needs
    nothing here: Latch publishes a key a day before signing with it, and keeps a retired key
    published until the last token it signed has expired. (It refetches for every unknown key,
    with no pause between fetches: in front of the public internet, rate-limit this service.)
  - the algorithm is RS256, the one Latch signs access tokens with: never what the token asks for.
  - typ is at+jwt: an ID token, also signed by Latch, is not an access token (RFC 9068 section 4).
    PyJWT does not check typ itself, so it is checked here.
  - iss is LATCH_ISSUER and aud is AUDIENCE: a token for another service, or for Latch's own
    API, is refused even though Latch signed it.
  - exp, and the other claims RFC 9068 requires. There is no clock leeway: keep this host's
    clock in sync (NTP), or pass jwt.decode a `leeway` of a few seconds.
  - the scope claim holds REQUIRED_SCOPE.

Refusals follow RFC 6750 section 3: 401 with `WWW-Authenticate: Bearer ...` (error="invalid_token"
when a token was sent), and 403 with error="insufficient_scope" and the scope needed.

What an offline check cannot see: a token revoked at Latch works here until it expires
(ACCESS_TOKEN_TTL, 10 minutes by default). Where that matters, ask Latch's introspection
endpoint (RFC 7662) instead, or as well.
"""

import json
import os
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import jwt

LATCH_ISSUER = os.environ.get("LATCH_ISSUER", "")
AUDIENCE = os.environ.get("AUDIENCE", "")
REQUIRED_SCOPE = os.environ.get("REQUIRED_SCOPE", "orders:read")
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8080"))

# PyJWT 2.7 and later tell an unreachable JWKS apart; earlier ones raise the same error as for
# an unknown key, and such a request ends as a 401 rather than a 503.
JWKS_UNREACHABLE = getattr(jwt, "PyJWKClientConnectionError", ())


class Refusal(Exception):
    """A refusal: the status, and the RFC 6750 parameters of its WWW-Authenticate challenge."""

    def __init__(self, status, **params):
        super().__init__(params.get("error_description", "no access token"))
        self.status = status
        self.params = params


def invalid_token(description):
    return Refusal(401, error="invalid_token", error_description=description)


def discover_keys():
    with urllib.request.urlopen(f"{LATCH_ISSUER.rstrip('/')}/.well-known/openid-configuration") as response:
        metadata = json.load(response)
    # Tokens are checked against this issuer, so it must be the one Latch itself states.
    if metadata["issuer"] != LATCH_ISSUER:
        sys.exit(f"Latch states its issuer as {metadata['issuer']}: set LATCH_ISSUER to exactly that")
    return jwt.PyJWKClient(metadata["jwks_uri"])


def authorize(authorization, latch_keys, scope):
    """The verified claims of the request's access token, which must carry `scope`."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Refusal(401)
    try:
        if str(jwt.get_unverified_header(token).get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise invalid_token("the token is not an access token")
        claims = jwt.decode(
            token,
            latch_keys.get_signing_key_from_jwt(token).key,
            algorithms=["RS256"],
            issuer=LATCH_ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti", "client_id"]},
        )
    except jwt.ExpiredSignatureError:
        raise invalid_token("the access token expired")
    except jwt.InvalidAudienceError:
        raise invalid_token("the aud claim is not valid")
    except jwt.InvalidIssuerError:
        raise invalid_token("the iss claim is not valid")
    except JWKS_UNREACHABLE:
        raise  # this side's problem, not the token's: a 503 below
    except jwt.PyJWTError:
        raise invalid_token("the access token is not valid")
    if scope not in str(claims.get("scope", "")).split(" "):
        raise Refusal(403, error="insufficient_scope", error_description=f"the {scope} scope is required", scope=scope)
    return claims


class ResourceServer(BaseHTTPRequestHandler):
    latch_keys = None

    def do_GET(self):
        if urlsplit(self.path).path != "/orders":
            return self.send(404, {"error": "not_found"})
        try:
            claims = authorize(self.headers.get("Authorization"), self.latch_keys, REQUIRED_SCOPE)
        except Refusal as refusal:
            challenge = ", ".join(f'{name}="{value}"' for name, value in {"realm": "orders", **refusal.params}.items())
            body = {"error": refusal.params.get("error", "unauthorized"), "error_description": str(refusal)}
            return self.send(refusal.status, body, {"WWW-Authenticate": f"Bearer {challenge}"})
        except Exception as error:  # the JWKS could not be fetched, most likely
            self.log_error("cannot check the token: %s", error)
            return self.send(503, {"error": "temporarily_unavailable"}, {"Retry-After": "5"})
        self.send(200, {"orders": [{"id": "order-1", "total": "12.50"}], "client_id": claims["client_id"], "sub": claims["sub"]})

    def send(self, status, body, headers=None):
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main():
    if not LATCH_ISSUER or not AUDIENCE:
        sys.exit("Set LATCH_ISSUER (Latch's issuer) and AUDIENCE (this service's resource indicator).")
    ResourceServer.latch_keys = discover_keys()
    server = ThreadingHTTPServer((HOST, PORT), ResourceServer)
    print(f"resource server on http://{HOST}:{PORT}, accepting tokens of {LATCH_ISSUER} for {AUDIENCE}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
