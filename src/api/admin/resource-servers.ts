import { z } from 'zod';
import type { Authorization } from '../../authorization/authorization.js';
import type { PermissionView, ResourceServerView } from '../../authorization/resource-servers.js';
import { adminOf } from '../bearer-auth.js';
import type { ApiRoutes } from '../operation.js';

const permissionSchema = z
  .object({ id: z.string(), value: z.string().describe('The scope value, such as `orders:read`.'), description: z.string().nullable() })
  .meta({ id: 'Permission' });

const resourceServerSchema = z
  .object({
    id: z.string(),
    identifier: z.string().describe('The resource indicator (RFC 8707): what clients send as `resource`, and the audience of its tokens.'),
    name: z.string().nullable(),
    introspecting_clients: z.array(z.string()).describe('Clients that may introspect its tokens (RFC 7662).'),
    permissions: z.array(permissionSchema),
    created_at: z.iso.datetime(),
  })
  .meta({ id: 'ResourceServer' });

const resourceServerListSchema = z.object({ resource_servers: z.array(resourceServerSchema) }).meta({ id: 'ResourceServerList' });
const permissionListSchema = z.object({ permissions: z.array(permissionSchema) }).meta({ id: 'PermissionList' });

const name = z.string().max(255, 'name must be at most 255 characters');
const clients = z.array(z.string().min(1).max(255)).max(100);
const description = z.string().max(1000, 'description must be at most 1000 characters');
const newResourceServerSchema = z
  .strictObject({ identifier: z.string({ error: 'identifier is required' }).max(2000), name: name.nullable().optional(), introspecting_clients: clients.optional() })
  .meta({ id: 'NewResourceServer' });
const resourceServerChangesSchema = z.strictObject({ name: name.nullable().optional(), introspecting_clients: clients.optional() }).meta({ id: 'ResourceServerChanges' });
const newPermissionSchema = z.strictObject({ value: z.string({ error: 'value is required' }).max(128), description: description.nullable().optional() }).meta({ id: 'NewPermission' });
const permissionChangesSchema = z.strictObject({ description: description.nullable() }).meta({ id: 'PermissionChanges' });

const presentPermission = ({ id, value, description: text }: PermissionView): z.input<typeof permissionSchema> => ({ id, value, description: text });

function presentServer(server: ResourceServerView): z.input<typeof resourceServerSchema> {
  return {
    id: server.id,
    identifier: server.identifier,
    name: server.name,
    introspecting_clients: server.introspectingClients,
    permissions: server.permissions.map(presentPermission),
    created_at: server.createdAt.toISOString(),
  };
}

/** The APIs that accept Latch's tokens, and their permissions. `{id}` is a server's id or its identifier, URL-encoded. */
export function mountResourceServerRoutes(routes: ApiRoutes, { resourceServers }: Authorization): void {
  const storage = ['internal', 'unavailable'] as const;
  const param = (params: Record<string, string | undefined>, key: string) => params[key] ?? '';
  const changes = (input: z.output<typeof resourceServerChangesSchema>) => ({
    ...(input.name === undefined ? {} : { name: input.name }),
    ...(input.introspecting_clients === undefined ? {} : { introspectingClients: input.introspecting_clients }),
  });

  routes.add(
    { id: 'listResourceServers', method: 'get', path: '/resource-servers', summary: 'List resource servers', replies: { 200: { description: 'Every resource server, by identifier.', body: resourceServerListSchema } }, problems: storage },
    async () => ({ status: 200, body: { resource_servers: (await resourceServers.list()).map(presentServer) } }),
  );

  routes.add(
    {
      id: 'createResourceServer',
      method: 'post',
      path: '/resource-servers',
      summary: 'Add a resource server',
      description: 'Clients may ask tokens for it (`resource`) at once, on every Latch process.',
      body: newResourceServerSchema,
      replies: { 201: { description: 'The new resource server.', body: resourceServerSchema, headers: { Location: 'The path of the new resource server.' } } },
      problems: ['invalid_input', 'conflict', ...storage],
    },
    async (ctx, input) => {
      const server = await resourceServers.create({ identifier: input.identifier, name: input.name, introspectingClients: input.introspecting_clients }, adminOf(ctx).actor);
      ctx.set('Location', `${ctx.path}/${server.id}`);
      return { status: 201, body: presentServer(server) };
    },
  );

  routes.add(
    { id: 'getResourceServer', method: 'get', path: '/resource-servers/:id', summary: 'Show a resource server', replies: { 200: { description: 'The resource server.', body: resourceServerSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: presentServer(await resourceServers.show(param(ctx.params, 'id'))) }),
  );

  routes.add(
    {
      id: 'updateResourceServer',
      method: 'patch',
      path: '/resource-servers/:id',
      summary: 'Change a resource server',
      body: resourceServerChangesSchema,
      replies: { 200: { description: 'The resource server as it is now.', body: resourceServerSchema } },
      problems: ['invalid_input', 'not_found', ...storage],
    },
    async (ctx, input) => ({ status: 200, body: presentServer(await resourceServers.update(param(ctx.params, 'id'), changes(input), adminOf(ctx).actor)) }),
  );

  routes.add(
    {
      id: 'deleteResourceServer',
      method: 'delete',
      path: '/resource-servers/:id',
      summary: 'Delete a resource server',
      description: 'With its permissions, which leave every role. Latch\'s own API cannot be deleted; a RESOURCE_SERVERS entry comes back at the next start.',
      replies: { 204: { description: 'Deleted.' } },
      problems: ['not_found', 'conflict', ...storage],
    },
    async (ctx) => {
      await resourceServers.delete(param(ctx.params, 'id'), adminOf(ctx).actor);
      return { status: 204 };
    },
  );

  routes.add(
    { id: 'listPermissions', method: 'get', path: '/resource-servers/:id/permissions', summary: "List a resource server's permissions", replies: { 200: { description: 'Its permissions, by value.', body: permissionListSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: { permissions: (await resourceServers.show(param(ctx.params, 'id'))).permissions.map(presentPermission) } }),
  );

  routes.add(
    {
      id: 'createPermission',
      method: 'post',
      path: '/resource-servers/:id/permissions',
      summary: 'Add a permission to a resource server',
      description: 'No one holds it until a role that holds it is assigned.',
      body: newPermissionSchema,
      replies: { 201: { description: 'The new permission.', body: permissionSchema, headers: { Location: 'The path of the new permission.' } } },
      problems: ['invalid_input', 'not_found', 'conflict', ...storage],
    },
    async (ctx, input) => {
      const server = await resourceServers.addPermission(param(ctx.params, 'id'), input, adminOf(ctx).actor);
      const permission = server.permissions.find(({ value }) => value === input.value) as PermissionView;
      ctx.set('Location', `${ctx.path}/${encodeURIComponent(permission.value)}`);
      return { status: 201, body: presentPermission(permission) };
    },
  );

  routes.add(
    {
      id: 'updatePermission',
      method: 'patch',
      path: '/resource-servers/:id/permissions/:value',
      summary: "Change a permission's description",
      body: permissionChangesSchema,
      replies: { 200: { description: 'The permission as it is now.', body: permissionSchema } },
      problems: ['invalid_input', 'not_found', ...storage],
    },
    async (ctx, input) => {
      const value = param(ctx.params, 'value');
      const server = await resourceServers.updatePermission(param(ctx.params, 'id'), value, input, adminOf(ctx).actor);
      return { status: 200, body: presentPermission(server.permissions.find((permission) => permission.value === value) as PermissionView) };
    },
  );

  routes.add(
    {
      id: 'deletePermission',
      method: 'delete',
      path: '/resource-servers/:id/permissions/:value',
      summary: 'Remove a permission from a resource server',
      description: 'It leaves every role that held it; the next tokens no longer carry it.',
      replies: { 204: { description: 'Removed.' } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => {
      await resourceServers.removePermission(param(ctx.params, 'id'), param(ctx.params, 'value'), adminOf(ctx).actor);
      return { status: 204 };
    },
  );
}
