import { z } from 'zod';
import type { Authorization } from '../../authorization/authorization.js';
import type { HeldPermission, RoleView } from '../../authorization/roles.js';
import { adminOf } from '../bearer-auth.js';
import type { ApiRoutes } from '../operation.js';

const heldPermissionSchema = z
  .object({
    id: z.string().describe('The permission id: the path to grant or revoke it.'),
    resource: z.string().describe('The resource server (RFC 8707 resource indicator) it belongs to.'),
    value: z.string().describe('The scope value tokens for that resource server carry.'),
  })
  .describe('A permission a role holds.');

const roleSchema = z
  .object({
    id: z.string(),
    name: z.string().describe('What tokens carry in their `roles` claim.'),
    description: z.string().nullable(),
    created_at: z.iso.datetime(),
    permissions: z.array(heldPermissionSchema),
  })
  .meta({ id: 'Role' });

const roleListSchema = z.object({ roles: z.array(roleSchema) }).meta({ id: 'RoleList' });
const heldPermissionListSchema = z.object({ permissions: z.array(heldPermissionSchema) }).meta({ id: 'HeldPermissionList' });

const description = z.string().max(1000, 'description must be at most 1000 characters');
const newRoleSchema = z.strictObject({ name: z.string({ error: 'name is required' }).max(64), description: description.optional() }).meta({ id: 'NewRole' });
const roleChangesSchema = z.strictObject({ name: z.string().max(64).optional(), description: description.nullable().optional() }).meta({ id: 'RoleChanges' });

export const presentPermission = ({ id, resource, value }: HeldPermission): z.input<typeof heldPermissionSchema> => ({ id, resource, value });

function presentRole(role: RoleView): z.input<typeof roleSchema> {
  return { id: role.id, name: role.name, description: role.description, created_at: role.createdAt.toISOString(), permissions: role.permissions.map(presentPermission) };
}

/** Roles and the permissions they hold. `{id}` is a role's id or its name. */
export function mountRoleRoutes(routes: ApiRoutes, { roles }: Authorization): void {
  const storage = ['internal', 'unavailable'] as const;
  const param = (params: Record<string, string | undefined>, name: string) => params[name] ?? '';

  routes.add(
    { id: 'listRoles', method: 'get', path: '/roles', summary: 'List roles', replies: { 200: { description: 'Every role, by name, with its permissions.', body: roleListSchema } }, problems: storage },
    async () => ({ status: 200, body: { roles: (await roles.list()).map(presentRole) } }),
  );

  routes.add(
    {
      id: 'createRole',
      method: 'post',
      path: '/roles',
      summary: 'Create a role',
      body: newRoleSchema,
      replies: { 201: { description: 'The new role, holding no permission yet.', body: roleSchema, headers: { Location: 'The path of the new role.' } } },
      problems: ['invalid_input', 'conflict', ...storage],
    },
    async (ctx, input) => {
      const role = await roles.create(input, adminOf(ctx).actor);
      ctx.set('Location', `${ctx.path}/${role.id}`);
      return { status: 201, body: presentRole(role) };
    },
  );

  routes.add(
    { id: 'getRole', method: 'get', path: '/roles/:id', summary: 'Show a role', description: '`{id}` is the role id or its name.', replies: { 200: { description: 'The role.', body: roleSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: presentRole(await roles.show(param(ctx.params, 'id'))) }),
  );

  routes.add(
    {
      id: 'updateRole',
      method: 'patch',
      path: '/roles/:id',
      summary: 'Rename a role or change its description',
      description: 'The built-in `admin` role cannot be renamed. Tokens issued from now on carry the new name.',
      body: roleChangesSchema,
      replies: { 200: { description: 'The role as it is now.', body: roleSchema } },
      problems: ['invalid_input', 'not_found', 'conflict', ...storage],
    },
    async (ctx, input) => ({ status: 200, body: presentRole(await roles.update(param(ctx.params, 'id'), input, adminOf(ctx).actor)) }),
  );

  routes.add(
    {
      id: 'deleteRole',
      method: 'delete',
      path: '/roles/:id',
      summary: 'Delete a role',
      description: 'Every user and client loses it; their next token no longer carries its permissions. The built-in `admin` role cannot be deleted.',
      replies: { 204: { description: 'Deleted.' } },
      problems: ['not_found', 'conflict', ...storage],
    },
    async (ctx) => {
      await roles.delete(param(ctx.params, 'id'), adminOf(ctx).actor);
      return { status: 204 };
    },
  );

  routes.add(
    { id: 'listRolePermissions', method: 'get', path: '/roles/:id/permissions', summary: "List a role's permissions", replies: { 200: { description: 'Its permissions, by resource server.', body: heldPermissionListSchema } }, problems: ['not_found', ...storage] },
    async (ctx) => ({ status: 200, body: { permissions: (await roles.show(param(ctx.params, 'id'))).permissions.map(presentPermission) } }),
  );

  routes.add(
    {
      id: 'grantRolePermission',
      method: 'put',
      path: '/roles/:id/permissions/:permissionId',
      summary: 'Grant a permission to a role',
      description: 'Idempotent. The next token of each holder of the role for that resource server may carry it, when the client asks for it.',
      replies: { 200: { description: 'The role as it is now.', body: roleSchema } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => ({ status: 200, body: presentRole(await roles.grant(param(ctx.params, 'id'), { id: param(ctx.params, 'permissionId') }, adminOf(ctx).actor)) }),
  );

  routes.add(
    {
      id: 'revokeRolePermission',
      method: 'delete',
      path: '/roles/:id/permissions/:permissionId',
      summary: 'Revoke a permission from a role',
      description: 'Idempotent. The next token of each holder of the role, refreshes included, no longer carries it (unless another role grants it).',
      replies: { 204: { description: 'Revoked.' } },
      problems: ['not_found', ...storage],
    },
    async (ctx) => {
      await roles.revoke(param(ctx.params, 'id'), { id: param(ctx.params, 'permissionId') }, adminOf(ctx).actor);
      return { status: 204 };
    },
  );
}
