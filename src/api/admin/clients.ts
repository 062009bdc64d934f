import { z } from 'zod';
import type { ClientAdmin, ClientChanges, ClientSummary } from '../../provider/client-admin.js';
import { SIGNING_ALGORITHMS } from '../../provider/keys/key-ring.js';
import { adminOf } from '../bearer-auth.js';
import type { ApiRoutes } from '../operation.js';

const grantTypes = z.array(z.enum(['authorization_code', 'client_credentials'])).min(1).describe('authorization_code brings refresh_token with it.');
const uris = z.array(z.string().max(2048)).max(100);
const algorithm = z.enum(SIGNING_ALGORITHMS);

/** DCR's metadata names (RFC 7591), for what an administrator decides; the provider validates the result as it validates a registration. */
const newClientSchema = z
  .strictObject({
    client_name: z.string().max(255).optional(),
    public: z.boolean().optional().describe('No secret (token_endpoint_auth_method none): a browser or native app, which must use PKCE.'),
    first_party: z.boolean().optional().describe('Skips the consent page: for the operator\'s own apps only.'),
    grant_types: grantTypes.optional().describe('Default: authorization_code.'),
    redirect_uris: uris.optional(),
    post_logout_redirect_uris: uris.optional(),
    id_token_signed_response_alg: algorithm.optional(),
    admin: z.boolean().optional().describe('May ask for the admin scope; a client_credentials client also gets the admin role.'),
  })
  .meta({ id: 'AdminNewClient' });

const clientPatchSchema = z
  .strictObject({
    client_name: z.string().max(255).nullable().optional(),
    first_party: z.boolean().optional(),
    grant_types: grantTypes.optional(),
    redirect_uris: uris.optional(),
    post_logout_redirect_uris: uris.optional(),
    id_token_signed_response_alg: algorithm.nullable().optional(),
  })
  .meta({ id: 'AdminClientPatch', description: 'Metadata to change: an absent field is kept, a null one removed.' });

const clientSchema = z
  .object({
    client_id: z.string(),
    client_name: z.string().optional(),
    type: z.enum(['public', 'confidential']),
    first_party: z.boolean(),
    grant_types: z.array(z.string()),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    id_token_signed_response_alg: z.string().optional(),
    admin: z.boolean().describe('May ask for the admin scope.'),
    created_at: z.iso.datetime().optional(),
  })
  .meta({ id: 'AdminClient', description: 'A client as an administrator sees it: never its secret.' });

const clientListSchema = z.object({ clients: z.array(clientSchema) }).meta({ id: 'AdminClientList' });
const createdClientSchema = clientSchema.extend({ client_secret: z.string().optional().describe('Shown this once; absent for a public client.') }).meta({ id: 'AdminCreatedClient' });
const secretSchema = z.object({ client_id: z.string(), client_secret: z.string().describe('Shown this once; the old secret no longer works.') }).meta({ id: 'AdminClientSecret' });

function presentClient(client: ClientSummary): z.input<typeof clientSchema> {
  return {
    client_id: client.clientId,
    client_name: client.name,
    type: client.type,
    first_party: client.firstParty,
    grant_types: client.grantTypes,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    id_token_signed_response_alg: client.idTokenAlg,
    admin: client.admin,
    created_at: client.issuedAt?.toISOString(),
  };
}

/** The admin API's clients: `latch clients` over HTTP, through the same service and the provider's own validation. */
export function mountAdminClientRoutes(routes: ApiRoutes, { clients }: { clients: ClientAdmin }): void {
  const storage = ['internal', 'unavailable'] as const;
  const idOf = (params: Record<string, string | undefined>) => params.id ?? '';

  routes.add(
    { id: 'adminListClients', method: 'get', path: '/clients', summary: 'List clients', replies: { 200: { description: 'Every client, oldest first.', body: clientListSchema } }, problems: storage },
    async () => ({ status: 200, body: { clients: (await clients.list()).map(presentClient) } }),
  );

  routes.add(
    {
      id: 'adminCreateClient',
      method: 'post',
      path: '/clients',
      summary: 'Create a client',
      description: 'Validated by the provider exactly as a dynamic registration is; a confidential client\'s secret is in the answer, once.',
      body: newClientSchema,
      replies: { 201: { description: 'The new client.', body: createdClientSchema, headers: { Location: 'The path of the new client.' } } },
      problems: ['invalid_input', ...storage],
    },
    async (ctx, body) => {
      const { client, clientSecret } = await clients.create(
        {
          name: body.client_name,
          public: body.public ?? false,
          firstParty: body.first_party ?? false,
          grants: body.grant_types ?? ['authorization_code'],
          redirectUris: body.redirect_uris ?? [],
          postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
          idTokenAlg: body.id_token_signed_response_alg,
          admin: body.admin,
        },
        { actor: adminOf(ctx).actor },
      );
      ctx.set('Location', `${ctx.path}/${encodeURIComponent(client.clientId)}`);
      return { status: 201, body: { ...presentClient(client), ...(clientSecret === undefined ? {} : { client_secret: clientSecret }) } };
    },
  );

  routes.add(
    { id: 'adminGetClient', method: 'get', path: '/clients/:id', summary: 'Read a client', replies: { 200: { description: 'The client.', body: clientSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: presentClient(await clients.show(idOf(ctx.params))) }),
  );

  routes.add(
    {
      id: 'adminUpdateClient',
      method: 'patch',
      path: '/clients/:id',
      summary: 'Change a client',
      description: 'Validated by the provider as a registration is; tokens already issued stay valid.',
      body: clientPatchSchema,
      replies: { 200: { description: 'The client as changed.', body: clientSchema } },
      problems: ['invalid_input', 'not_found', ...storage],
    },
    async (ctx, body) => {
      const changes: ClientChanges = {
        name: body.client_name,
        firstParty: body.first_party,
        grants: body.grant_types,
        redirectUris: body.redirect_uris,
        postLogoutRedirectUris: body.post_logout_redirect_uris,
        idTokenAlg: body.id_token_signed_response_alg,
      };
      return { status: 200, body: presentClient(await clients.update(idOf(ctx.params), changes, { actor: adminOf(ctx).actor })) };
    },
  );

  routes.add(
    {
      id: 'adminDeleteClient',
      method: 'delete',
      path: '/clients/:id',
      summary: 'Delete a client',
      description: 'With every grant, code and token issued to it; users\' sessions stay.',
      replies: { 204: { description: 'Deleted.' } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => {
      await clients.delete(idOf(ctx.params), { actor: adminOf(ctx).actor });
      return { status: 204 };
    },
  );

  routes.add(
    {
      id: 'adminRotateClientSecret',
      method: 'post',
      path: '/clients/:id/secret',
      summary: "Replace a client's secret",
      description: 'The old secret stops working at once; tokens already issued stay valid. A public client has none (400).',
      replies: { 200: { description: 'The new secret.', body: secretSchema } },
      problems: ['invalid_input', 'not_found', ...storage],
    },
    async (ctx) => {
      const clientId = idOf(ctx.params);
      return { status: 200, body: { client_id: clientId, client_secret: await clients.rotateSecret(clientId, { actor: adminOf(ctx).actor }) } };
    },
  );
}
