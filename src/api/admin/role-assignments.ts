import { z } from 'zod';
import type { Assignee, AssignedRole } from '../../authorization/assignments.js';
import type { Authorization } from '../../authorization/authorization.js';
import { RoleNotFoundError } from '../../authorization/errors.js';
import { adminOf } from '../bearer-auth.js';
import type { ApiRoutes } from '../operation.js';

const assignedRoleSchema = z.object({ id: z.string(), name: z.string(), description: z.string().nullable() }).meta({ id: 'AssignedRole' });
const assignedRoleListSchema = z.object({ roles: z.array(assignedRoleSchema) }).meta({ id: 'AssignedRoleList' });

const present = ({ id, name, description }: AssignedRole): z.input<typeof assignedRoleSchema> => ({ id, name, description });

/**
 * Which roles a user or a client (acting for itself, client credentials) holds. Only the `/roles`
 * sub-paths: the rest of /admin/users and /admin/clients is the users' and clients' own routes.
 * `{role}` is a role's id or name.
 */
export function mountRoleAssignmentRoutes(routes: ApiRoutes, { assignments }: Authorization): void {
  const storage = ['internal', 'unavailable'] as const;
  const kinds = [
    { collection: 'users', noun: 'user', operation: 'User', assignee: (id: string): Assignee => ({ user: id }) },
    { collection: 'clients', noun: 'client', operation: 'Client', assignee: (id: string): Assignee => ({ client: id }) },
  ] as const;

  for (const { collection, noun, operation, assignee } of kinds) {
    const of = (params: Record<string, string | undefined>) => assignee(params.id ?? '');
    const role = (params: Record<string, string | undefined>) => params.role ?? '';

    routes.add(
      { id: `list${operation}Roles`, method: 'get', path: `/${collection}/:id/roles`, summary: `List a ${noun}'s roles`, replies: { 200: { description: 'Its roles, by name.', body: assignedRoleListSchema } }, problems: ['not_found', ...storage] },
      async (ctx) => ({ status: 200, body: { roles: (await assignments.list(of(ctx.params))).map(present) } }),
    );

    routes.add(
      {
        id: `get${operation}Role`,
        method: 'get',
        path: `/${collection}/:id/roles/:role`,
        summary: `Whether a ${noun} holds a role`,
        replies: { 200: { description: 'The role, which it holds.', body: assignedRoleSchema } },
        problems: ['not_found', ...storage],
      },
      async (ctx) => {
        const wanted = role(ctx.params);
        const held = (await assignments.list(of(ctx.params))).find(({ id, name }) => id === wanted || name === wanted);
        if (!held) throw new RoleNotFoundError(`${wanted} held by this ${noun}`);
        return { status: 200, body: present(held) };
      },
    );

    routes.add(
      {
        id: `assign${operation}Role`,
        method: 'put',
        path: `/${collection}/:id/roles/:role`,
        summary: `Assign a role to a ${noun}`,
        description: `Idempotent. The ${noun}'s next token carries what the role grants.`,
        replies: { 204: { description: 'Assigned.' } },
        problems: ['not_found', ...storage],
      },
      async (ctx) => {
        await assignments.assign(of(ctx.params), role(ctx.params), adminOf(ctx).actor);
        return { status: 204 };
      },
    );

    routes.add(
      {
        id: `unassign${operation}Role`,
        method: 'delete',
        path: `/${collection}/:id/roles/:role`,
        summary: `Take a role from a ${noun}`,
        description: `Idempotent. The ${noun}'s next token, refreshes included, no longer carries what only that role granted.`,
        replies: { 204: { description: 'Taken away.' } },
        problems: ['not_found', ...storage],
      },
      async (ctx) => {
        await assignments.unassign(of(ctx.params), role(ctx.params), adminOf(ctx).actor);
        return { status: 204 };
      },
    );
  }
}
