import type { ClientMetadata } from 'oidc-provider';
import { ADMIN_SCOPE } from '../authorization/seed.js';
import { FIRST_PARTY, MFA_REQUIRED } from '../provider/client-metadata.js';
import type { OidcStore } from '../provider/oidc-store.js';

/** Latch's own client, through which the admin console signs administrators in. */
export const CONSOLE_CLIENT_ID = 'latch-admin';

export const CONSOLE_PATH = '/admin';
export const CONSOLE_CALLBACK_PATH = `${CONSOLE_PATH}/callback`;

/** What the console asks for: `admin` on Latch's API, which only an administrator's roles grant. */
export const CONSOLE_SCOPE = `openid ${ADMIN_SCOPE}`;

/**
 * Written at every start, so that it always matches where this deployment serves the console
 * (`consoleUrl`: the issuer, or the admin listener's URL with ADMIN_PORT). Unlike the account
 * page's client, this one is a real relying party: its codes are redeemed (PKCE, no secret: the
 * console runs in Latch but holds no credential Latch would not give any public client), it keeps
 * refresh tokens (first party), and its registered `scope` lists `admin`, which an administrator,
 * not a client registering itself, may give. `require_auth_time` puts auth_time in its ID tokens,
 * so that destructive actions can ask for a recent sign-in (max_age). `latch_mfa_required`: a stolen
 * password alone never opens the console; an administrator without a factor sets one up in the
 * sign-in. No setting turns it off: a lost factor is reset with the CLI, like anyone's.
 */
export async function ensureConsoleClient(store: Pick<OidcStore, 'upsert'>, consoleUrl: string): Promise<void> {
  const metadata: ClientMetadata = {
    client_id: CONSOLE_CLIENT_ID,
    client_name: 'Latch admin console',
    redirect_uris: [`${consoleUrl}${CONSOLE_CALLBACK_PATH}`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: CONSOLE_SCOPE,
    require_auth_time: true,
    [MFA_REQUIRED]: true,
    [FIRST_PARTY]: true,
  };
  await store.upsert('Client', CONSOLE_CLIENT_ID, metadata, undefined);
}
