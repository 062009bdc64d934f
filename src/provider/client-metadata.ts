import { errors, type Configuration } from 'oidc-provider';
import { ADMIN_SCOPE } from '../authorization/seed.js';

/** Admins mark a client first-party (CLI); a client registering itself never may. */
export const FIRST_PARTY = 'first_party';

type Features = NonNullable<Configuration['features']>;
type Feature = keyof Features;

/**
 * Client metadata oidc-provider recognises only while every feature named beside it is on (its
 * lib/helpers/client_schema.js). With one of them off it drops the field and still answers 201,
 * so a client would believe, say, that it gets back-channel logout calls or encrypted ID tokens.
 */
const METADATA_OF_FEATURES: { needs: Feature[]; offering: string; metadata: string[] }[] = [
  { needs: ['backchannelLogout'], offering: 'back-channel logout', metadata: ['backchannel_logout_uri', 'backchannel_logout_session_required'] },
  { needs: ['encryption'], offering: 'encrypted ID tokens', metadata: ['id_token_encrypted_response_alg', 'id_token_encrypted_response_enc'] },
  { needs: ['jwtUserinfo'], offering: 'signed userinfo responses', metadata: ['userinfo_signed_response_alg'] },
  { needs: ['jwtUserinfo', 'encryption'], offering: 'encrypted userinfo responses', metadata: ['userinfo_encrypted_response_alg', 'userinfo_encrypted_response_enc'] },
  { needs: ['introspection', 'jwtIntrospection'], offering: 'signed introspection responses', metadata: ['introspection_signed_response_alg'] },
  {
    needs: ['introspection', 'jwtIntrospection', 'encryption'],
    offering: 'encrypted introspection responses',
    metadata: ['introspection_encrypted_response_alg', 'introspection_encrypted_response_enc'],
  },
  { needs: ['jwtResponseModes'], offering: 'JWT authorization responses (JARM)', metadata: ['authorization_signed_response_alg'] },
  {
    needs: ['jwtResponseModes', 'encryption'],
    offering: 'encrypted authorization responses',
    metadata: ['authorization_encrypted_response_alg', 'authorization_encrypted_response_enc'],
  },
  { needs: ['requestObjects'], offering: 'request objects (JAR)', metadata: ['request_object_signing_alg', 'require_signed_request_object'] },
  { needs: ['requestObjects', 'encryption'], offering: 'encrypted request objects', metadata: ['request_object_encryption_alg', 'request_object_encryption_enc'] },
  // oidc-provider also needs mTLS's own tlsClientAuth and certificateBoundAccessTokens switches for these.
  {
    needs: ['mTLS'],
    offering: 'mutual TLS',
    metadata: [
      'tls_client_auth_subject_dn',
      'tls_client_auth_san_dns',
      'tls_client_auth_san_uri',
      'tls_client_auth_san_ip',
      'tls_client_auth_san_email',
      'use_mtls_endpoint_aliases',
      'tls_client_certificate_bound_access_tokens',
    ],
  },
  {
    needs: ['ciba'],
    offering: 'CIBA',
    metadata: ['backchannel_token_delivery_mode', 'backchannel_user_code_parameter', 'backchannel_client_notification_endpoint'],
  },
  { needs: ['ciba', 'requestObjects'], offering: 'signed CIBA requests', metadata: ['backchannel_authentication_request_signing_alg'] },
  { needs: ['richAuthorizationRequests'], offering: 'rich authorization requests', metadata: ['authorization_details_types'] },
  { needs: ['dPoP'], offering: 'DPoP', metadata: ['dpop_bound_access_tokens'] },
  { needs: ['rpInitiatedLogout'], offering: 'RP-initiated logout', metadata: ['post_logout_redirect_uris'] },
  { needs: ['pushedAuthorizationRequests'], offering: 'pushed authorization requests', metadata: ['require_pushed_authorization_requests'] },
  {
    needs: ['rpMetadataChoices'],
    offering: 'client metadata choices',
    metadata: [
      'authorization_encryption_alg_values_supported',
      'authorization_encryption_enc_values_supported',
      'authorization_signing_alg_values_supported',
      'backchannel_authentication_request_signing_alg_values_supported',
      'id_token_encryption_alg_values_supported',
      'id_token_encryption_enc_values_supported',
      'id_token_signing_alg_values_supported',
      'introspection_encryption_alg_values_supported',
      'introspection_encryption_enc_values_supported',
      'introspection_signing_alg_values_supported',
      'request_object_encryption_alg_values_supported',
      'request_object_encryption_enc_values_supported',
      'request_object_signing_alg_values_supported',
      'subject_types_supported',
      'token_endpoint_auth_methods_supported',
      'token_endpoint_auth_signing_alg_values_supported',
      'userinfo_encryption_alg_values_supported',
      'userinfo_encryption_enc_values_supported',
      'userinfo_signing_alg_values_supported',
    ],
  },
];

/** RFC 8252 §7.3 and RFC 9700 §2.1: plain http only where no network lies between browser and app. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const REDIRECT_URI_LISTS = ['redirect_uris', 'post_logout_redirect_uris'];

type ExtraClientMetadata = NonNullable<Configuration['extraClientMetadata']>;

/**
 * Latch's rules over oidc-provider's own client validation, in its extraClientMetadata hook, so
 * that they hold wherever a client is built: dynamic registration and its updates, the admin CLI
 * (which validates through the same provider) and every load from the store.
 * - `first_party`, and `admin` in `scope`, are for administrators to set, never for a client registering itself;
 * - metadata of a feature that is off is refused, naming the field, instead of silently dropped;
 * - in production, redirect and post-logout redirect URIs are https, or http on loopback only.
 *   Outside production any http URI is fine, as the quick start's http://localhost apps need.
 */
export function clientMetadataRules({ features, production }: { features: Features; production: boolean }): ExtraClientMetadata {
  const isOn = (feature: Feature) => (features[feature] as { enabled?: boolean } | undefined)?.enabled === true;
  const unsupported = new Map(
    METADATA_OF_FEATURES.filter(({ needs }) => !needs.every(isOn)).flatMap(({ offering, metadata }) => metadata.map((field) => [field, offering] as const)),
  );

  return {
    properties: [...new Set([FIRST_PARTY, 'scope', ...unsupported.keys(), ...(production ? REDIRECT_URI_LISTS : [])])],
    validator(ctx, key, value) {
      if (key === FIRST_PARTY) return checkFirstParty(ctx, value);
      if (key === 'scope') return checkAdminScope(ctx, value);
      const offering = unsupported.get(key);
      // false asks for nothing Latch lacks (no signed request objects required, say): clients that send defaults still register.
      if (offering !== undefined && value !== undefined && value !== false) {
        throw new errors.InvalidClientMetadata(`${key} is not supported: Latch does not offer ${offering}`);
      }
      if (REDIRECT_URI_LISTS.includes(key)) checkSecureRedirects(key, value);
    },
  };
}

function checkFirstParty(ctx: unknown, value: unknown): void {
  if (value === undefined || value === false) return;
  if (ctx) throw new errors.InvalidClientMetadata(`${FIRST_PARTY} can only be set by an administrator`);
  if (value !== true) throw new errors.InvalidClientMetadata(`${FIRST_PARTY} must be a boolean`);
}

function checkAdminScope(ctx: unknown, value: unknown): void {
  if (ctx && typeof value === 'string' && value.split(' ').includes(ADMIN_SCOPE)) {
    throw new errors.InvalidClientMetadata(`the ${ADMIN_SCOPE} scope can only be given to a client by an administrator`);
  }
}

function checkSecureRedirects(key: string, uris: unknown): void {
  // Malformed lists are left to oidc-provider's own checks, which run after this hook and name the problem.
  if (!Array.isArray(uris)) return;
  for (const uri of uris) {
    const url = typeof uri === 'string' ? URL.parse(uri) : null;
    if (url?.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      throw new errors.InvalidClientMetadata(`${key} must use https (plain http only on localhost, 127.0.0.1 or [::1]): ${url.origin}`);
    }
  }
}
