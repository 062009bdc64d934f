import type { ClientMetadata } from 'oidc-provider';
import { FIRST_PARTY } from '../provider/configuration.js';
import type { OidcStore } from '../provider/oidc-store.js';

/** Latch's own client, through which the account page sends a signed-out browser to the sign-in pages. */
export const ACCOUNT_CLIENT_ID = 'latch-account';

export const ACCOUNT_PATH = '/account';
export const ACCOUNT_CALLBACK_PATH = `${ACCOUNT_PATH}/callback`;
/** The account's second factors. */
export const SECURITY_PATH = `${ACCOUNT_PATH}/security`;

/**
 * Written at every start, so that it always matches this deployment's issuer: a public,
 * first-party client (no consent page, no secret) whose only redirect is the account page's.
 */
export async function ensureAccountClient(store: Pick<OidcStore, 'upsert'>, issuer: string): Promise<void> {
  const metadata: ClientMetadata = {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your Latch account',
    redirect_uris: [`${issuer}${ACCOUNT_CALLBACK_PATH}`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    [FIRST_PARTY]: true,
  };
  await store.upsert('Client', ACCOUNT_CLIENT_ID, metadata, undefined);
}
