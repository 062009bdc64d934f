import { randomBytes } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import type { Latch } from '../../src/app.js';

/**
 * Stores a client the way oidc-provider keeps registered ones (its Client model in the store);
 * the provider validates the metadata when it loads it, as for any other client.
 */
export async function registerClient(latch: Latch, metadata: Partial<ClientMetadata> & { redirect_uris?: string[] }): Promise<ClientMetadata & { client_id: string }> {
  const client = {
    client_id: `client-${randomBytes(6).toString('hex')}`,
    ...(metadata.token_endpoint_auth_method === 'none' ? {} : { client_secret: randomBytes(32).toString('base64url') }),
    ...metadata,
  } as ClientMetadata & { client_id: string };
  await latch.oidcStore.upsert('Client', client.client_id, client, undefined);
  return client;
}
