import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Authorization } from '../authorization/authorization.js';
import { PermissionExistsError, ResourceServerExistsError, RoleExistsError } from '../authorization/errors.js';
import type { PermissionView, ResourceServerView } from '../authorization/resource-servers.js';
import type { RoleView } from '../authorization/roles.js';
import { ADMIN_ROLE } from '../authorization/seed.js';
import { ValidationError } from '../errors.js';
import { formField } from '../interactions/form.js';
import { CONSOLE_PATH } from './console-client.js';
import type { ConsolePageKit } from './console-pages.js';
import type { ConsolePageLocals, FormState, PermissionGroup } from './console-views.js';
import { apiHref, formatted, holdersHref, roleHref } from './format.js';

/** What a page says after an action (?done=...); fixed lists, so a link cannot put words on a page. */
const LIST_NOTICES = { deleted: 'The role has been deleted: no user or client holds it any more.' } as const;
const ROLE_NOTICES = {
  created: 'The role has been created. It grants nothing until you grant it permissions.',
  granted: 'The permission has been granted: the next tokens of the role’s holders may carry it.',
  revoked: 'The permission has been revoked: the next tokens of the role’s holders no longer carry it.',
} as const;
const API_NOTICES = {
  registered: 'The API has been registered: apps may ask tokens for it now.',
  added: 'The permission has been added. Grant it to a role for anyone to hold it.',
  removed: 'The permission has been removed, and every role that held it has lost it.',
} as const;

/** The services' field names, as the forms label them. */
const FIELD_NAMES: Record<string, string> = { name: 'The name', identifier: 'The identifier', value: 'The permission' };

const noticeOf = <Notices extends Record<string, string>>(notices: Notices, value: unknown): string | undefined =>
  typeof value === 'string' && Object.hasOwn(notices, value) ? notices[value as keyof Notices] : undefined;

/** A service's refusal of what a form asked, in its own words, to show next to the form; undefined for any other failure. */
function refusalOf(error: unknown): string | undefined {
  if (error instanceof ValidationError) return error.issues.map(({ field, message }) => `${FIELD_NAMES[field] ?? field} ${message}.`).join(' ') || error.message;
  if (error instanceof RoleExistsError || error instanceof ResourceServerExistsError || error instanceof PermissionExistsError) return error.message;
  return undefined;
}

/** What the form posted, field by field. */
const posted = <Fields extends string>(ctx: Context, fields: readonly Fields[]) => Object.fromEntries(fields.map((field) => [field, formField(ctx, field)])) as Record<Fields, string>;

/** A field a select must have sent; empty only when a form was forged or sent half-filled. */
function chosen(ctx: Context, field: string, what: string): string {
  const value = formField(ctx, field);
  if (value === '') throw new ValidationError([{ field, message: 'is required' }], `Choose ${what}.`);
  return value;
}

/** The permissions `keep` picks, by API in the APIs' order; APIs with none left out. */
function grouped(servers: ResourceServerView[], keep: (permission: PermissionView) => boolean): PermissionGroup[] {
  return servers.flatMap((server) => {
    const permissions = server.permissions.filter(keep).map(({ id, value, description }) => ({ id, value, description: description ?? undefined }));
    return permissions.length === 0 ? [] : [{ api: { text: server.name ?? server.identifier, href: apiHref(server.id) }, permissions }];
  });
}

const ROLE_FIELDS = ['name', 'description'] as const;
const API_FIELDS = ['identifier', 'name'] as const;
const PERMISSION_FIELDS = ['value', 'description'] as const;
const empty = <Fields extends string>(fields: readonly Fields[]): FormState<Fields> => ({ values: Object.fromEntries(fields.map((field) => [field, ''])) as Record<Fields, string> });

export interface RolesPagesDependencies extends ConsolePageKit {
  authorization: Pick<Authorization, 'roles' | 'resourceServers'>;
}

/**
 * Roles and APIs: one list of both (/admin/roles), a page per role (/admin/roles/<name>: its
 * permissions, grants, revocations, deletion) and a page per API (/admin/apis/<id>: its permissions).
 * Every change goes through authz's services, as the admin API's and the CLI's do.
 */
export function rolesPages({ authorization: { roles, resourceServers }, views, page, form, recent, reauthenticate, actorOf }: RolesPagesDependencies): Middleware[] {
  const rolesRouter = new Router({ prefix: `${CONSOLE_PATH}/roles` });
  const apisRouter = new Router({ prefix: `${CONSOLE_PATH}/apis` });
  const nameOf = (ctx: Context) => (ctx.params as { name?: string }).name ?? '';
  const idOf = (ctx: Context) => (ctx.params as { id?: string }).id ?? '';
  const back = (ctx: Context, href: string) => {
    ctx.status = 303;
    ctx.redirect(href);
  };

  async function renderList(ctx: Context, forms: Partial<Pick<ConsolePageLocals['roles'], 'roleForm' | 'apiForm'>> = {}, status?: number) {
    const [allRoles, servers, holders] = await Promise.all([roles.list(), resourceServers.list(), roles.userCounts()]);
    await views.render(
      ctx,
      'roles',
      {
        roles: allRoles.map((role) => {
          const held = new Set(role.permissions.map(({ id }) => id));
          return { name: role.name, href: roleHref(role.name), description: role.description ?? undefined, groups: grouped(servers, ({ id }) => held.has(id)), users: holders.get(role.name) ?? 0, usersHref: holdersHref(role.name) };
        }),
        apis: servers.map((server) => ({ identifier: server.identifier, href: apiHref(server.id), name: server.name ?? undefined, permissions: server.permissions.map(({ value }) => value) })),
        roleForm: forms.roleForm ?? empty(ROLE_FIELDS),
        apiForm: forms.apiForm ?? empty(API_FIELDS),
        notice: noticeOf(LIST_NOTICES, ctx.query.done),
      },
      { status },
    );
  }

  async function renderRole(ctx: Context, name: string) {
    const [role, servers, holders] = await Promise.all([roles.show(name), resourceServers.list(), roles.userCounts()]);
    const held = new Set(role.permissions.map(({ id }) => id));
    await views.render(
      ctx,
      'role',
      {
        role: { name: role.name, href: roleHref(role.name), description: role.description ?? undefined, builtIn: role.name === ADMIN_ROLE, created: formatted(role.createdAt) ?? '', users: holders.get(role.name) ?? 0, usersHref: holdersHref(role.name) },
        groups: grouped(servers, ({ id }) => held.has(id)),
        grantable: grouped(servers, ({ id }) => !held.has(id)),
        notice: noticeOf(ROLE_NOTICES, ctx.query.done),
      },
      { title: role.name },
    );
  }

  async function renderApi(ctx: Context, id: string, permissionForm: FormState<'value' | 'description'> = empty(PERMISSION_FIELDS), status?: number) {
    const server = await resourceServers.show(id);
    await views.render(
      ctx,
      'api',
      {
        api: { id: server.id, identifier: server.identifier, name: server.name ?? undefined, created: formatted(server.createdAt) ?? '' },
        permissions: server.permissions.map(({ value, description }) => ({ value, description: description ?? undefined })),
        form: permissionForm,
        notice: noticeOf(API_NOTICES, ctx.query.done),
      },
      { status, title: server.name ?? server.identifier },
    );
  }

  rolesRouter.get('/', ...page, (ctx) => renderList(ctx));

  rolesRouter.post('/', ...form, async (ctx) => {
    const values = posted(ctx, ROLE_FIELDS);
    try {
      const role = await roles.create({ name: values.name.trim(), description: values.description.trim() || null }, actorOf(ctx));
      back(ctx, `${roleHref(role.name)}?done=created`);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === undefined) throw error;
      await renderList(ctx, { roleForm: { values, error: refusal } }, 422);
    }
  });

  rolesRouter.get('/:name', ...page, (ctx) => renderRole(ctx, nameOf(ctx)));

  rolesRouter.post('/:name/grant', ...form, async (ctx) => {
    const role = await roles.grant(nameOf(ctx), [{ id: chosen(ctx, 'permission', 'a permission to grant') }], actorOf(ctx));
    back(ctx, `${roleHref(role.name)}?done=granted`);
  });

  rolesRouter.post('/:name/revoke', ...form, async (ctx) => {
    const role = await roles.revoke(nameOf(ctx), [{ id: chosen(ctx, 'permission', 'a permission to revoke') }], actorOf(ctx));
    back(ctx, `${roleHref(role.name)}?done=revoked`);
  });

  // Deleting is irreversible (every holder loses the role): a confirmation page, the name typed, and a sign-in of the last few minutes.
  const renderConfirm = async (ctx: Context, role: RoleView, error?: string) => {
    const holders = await roles.userCounts();
    await views.render(ctx, 'confirm-delete-role', { role: { name: role.name, href: roleHref(role.name), users: holders.get(role.name) ?? 0 }, error }, { status: error ? 422 : 200 });
  };

  rolesRouter.get('/:name/delete', ...page, async (ctx) => {
    const role = await roles.show(nameOf(ctx));
    if (await reauthenticate(ctx, `${roleHref(role.name)}/delete`)) return;
    await renderConfirm(ctx, role);
  });

  rolesRouter.post('/:name/delete', ...form, recent, async (ctx) => {
    const role = await roles.show(nameOf(ctx));
    if (formField(ctx, 'name').trim() !== role.name) {
      await renderConfirm(ctx, role, 'This is not the role’s name: nothing was deleted.');
      return;
    }
    await roles.delete(role.id, actorOf(ctx));
    back(ctx, `${CONSOLE_PATH}/roles?done=deleted`);
  });

  // The APIs are listed with the roles.
  apisRouter.get('/', ...page, (ctx) => back(ctx, `${CONSOLE_PATH}/roles`));

  apisRouter.post('/', ...form, async (ctx) => {
    const values = posted(ctx, API_FIELDS);
    try {
      const server = await resourceServers.create({ identifier: values.identifier.trim(), name: values.name.trim() || null }, actorOf(ctx));
      back(ctx, `${apiHref(server.id)}?done=registered`);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === undefined) throw error;
      await renderList(ctx, { apiForm: { values, error: refusal } }, 422);
    }
  });

  apisRouter.get('/:id', ...page, (ctx) => renderApi(ctx, idOf(ctx)));

  apisRouter.post('/:id/permissions', ...form, async (ctx) => {
    const values = posted(ctx, PERMISSION_FIELDS);
    try {
      const server = await resourceServers.addPermission(idOf(ctx), { value: values.value.trim(), description: values.description.trim() || null }, actorOf(ctx));
      back(ctx, `${apiHref(server.id)}?done=added`);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === undefined) throw error;
      await renderApi(ctx, idOf(ctx), { values, error: refusal }, 422);
    }
  });

  apisRouter.post('/:id/permissions/remove', ...form, async (ctx) => {
    const server = await resourceServers.removePermission(idOf(ctx), chosen(ctx, 'value', 'a permission to remove'), actorOf(ctx));
    back(ctx, `${apiHref(server.id)}?done=removed`);
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [rolesRouter.routes() as Middleware, rolesRouter.allowedMethods() as Middleware, apisRouter.routes() as Middleware, apisRouter.allowedMethods() as Middleware];
}
