import type { AuditLog } from '../audit/audit-log.js';
import type { Database, PrismaClient } from '../db/prisma.js';
import { ValidationError } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { BuiltInResourceServerError, PermissionExistsError, PermissionNotFoundError, ResourceServerExistsError, ResourceServerNotFoundError } from './errors.js';
import { isUuid, SCOPE_TOKEN } from './references.js';
import { ADMIN_SCOPE } from './seed.js';

export interface PermissionView {
  id: string;
  value: string;
  description: string | null;
}

export interface ResourceServerView {
  id: string;
  /** The resource indicator (RFC 8707), which is also its tokens' audience. */
  identifier: string;
  name: string | null;
  /** Clients that may introspect its tokens. */
  introspectingClients: string[];
  permissions: PermissionView[];
  createdAt: Date;
}

export interface NewResourceServer {
  identifier: string;
  name?: string | null;
  introspectingClients?: string[];
  /** Its first permission values, created with it. */
  permissions?: string[];
}

export interface ResourceServerChanges {
  name?: string | null;
  introspectingClients?: string[];
}

/**
 * The APIs that accept Latch's access tokens, and their permissions. Every change is one
 * transaction with its audit event, and announces itself (LISTEN/NOTIFY) so that every replica's
 * resource directory reads the table again when it commits. A server is named by its id or identifier.
 */
export interface ResourceServers {
  list(): Promise<ResourceServerView[]>;
  /** Throws ResourceServerNotFoundError. */
  show(server: string): Promise<ResourceServerView>;
  /** Throws ResourceServerExistsError, ValidationError. */
  create(server: NewResourceServer, actor: string): Promise<ResourceServerView>;
  /** Throws ResourceServerNotFoundError. */
  update(server: string, changes: ResourceServerChanges, actor: string): Promise<ResourceServerView>;
  /** With its permissions, which leave every role. Throws ResourceServerNotFoundError, BuiltInResourceServerError. */
  delete(server: string, actor: string): Promise<void>;
  /** Throws ResourceServerNotFoundError, PermissionExistsError, ValidationError. */
  addPermission(server: string, permission: { value: string; description?: string | null }, actor: string): Promise<ResourceServerView>;
  /** Throws ResourceServerNotFoundError, PermissionNotFoundError. */
  updatePermission(server: string, value: string, changes: { description: string | null }, actor: string): Promise<ResourceServerView>;
  /** It leaves every role holding it. Throws ResourceServerNotFoundError, PermissionNotFoundError. */
  removePermission(server: string, value: string, actor: string): Promise<ResourceServerView>;
}

const WITH_PERMISSIONS = { permissions: { orderBy: { value: 'asc' }, select: { id: true, value: true, description: true } } } as const;
type ServerRow = Prisma.ResourceServerGetPayload<{ include: typeof WITH_PERMISSIONS }>;

const viewOf = ({ id, identifier, name, introspectingClients, permissions, createdAt }: ServerRow): ResourceServerView => ({
  id,
  identifier,
  name,
  introspectingClients,
  permissions,
  createdAt,
});

const summary = (server: ServerRow) => [`name ${server.name ?? ''}`, `introspecting_clients ${server.introspectingClients.join(' ')}`];

export function createResourceServers({ prisma, audit, apiResource }: { prisma: PrismaClient; audit: AuditLog; /** Latch's own API: never deleted. */ apiResource: string }): ResourceServers {
  async function find(db: Database, server: string): Promise<ServerRow> {
    const row = await db.resourceServer.findUnique({ where: isUuid(server) ? { id: server } : { identifier: server }, include: WITH_PERMISSIONS });
    if (!row) throw new ResourceServerNotFoundError(server);
    return row;
  }

  const duplicate = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

  return {
    async list() {
      return (await prisma.resourceServer.findMany({ include: WITH_PERMISSIONS, orderBy: { identifier: 'asc' } })).map(viewOf);
    },

    async show(server) {
      return viewOf(await find(prisma, server));
    },

    async create({ identifier, name = null, introspectingClients = [], permissions = [] }, actor) {
      checkIdentifier(identifier);
      for (const value of permissions) checkPermission(value);
      try {
        return await prisma.$transaction(async (tx) => {
          const values = [...new Set(permissions)].map((value) => ({ value }));
          const row = await tx.resourceServer.create({ data: { identifier, name, introspectingClients, permissions: { create: values } }, include: WITH_PERMISSIONS });
          await audit.record('resource_server.created', { actor, resource: identifier, after: [...summary(row), `permissions ${row.permissions.map(({ value }) => value).join(' ')}`] }, tx);
          return viewOf(row);
        });
      } catch (error) {
        if (duplicate(error)) throw new ResourceServerExistsError(identifier);
        throw error;
      }
    },

    async update(server, changes, actor) {
      return prisma.$transaction(async (tx) => {
        const before = await find(tx, server);
        const after = await tx.resourceServer.update({ where: { id: before.id }, data: changes, include: WITH_PERMISSIONS });
        await audit.record('resource_server.updated', { actor, resource: after.identifier, before: summary(before), after: summary(after) }, tx);
        return viewOf(after);
      });
    },

    async delete(server, actor) {
      await prisma.$transaction(async (tx) => {
        const before = await find(tx, server);
        if (before.identifier === apiResource) throw new BuiltInResourceServerError(apiResource);
        await tx.resourceServer.delete({ where: { id: before.id } });
        await audit.record('resource_server.deleted', { actor, resource: before.identifier, before: [...summary(before), `permissions ${before.permissions.map(({ value }) => value).join(' ')}`] }, tx);
      });
    },

    async addPermission(server, { value, description = null }, actor) {
      checkPermission(value);
      let identifier = server;
      try {
        return await prisma.$transaction(async (tx) => {
          const before = await find(tx, server);
          identifier = before.identifier;
          await tx.permission.create({ data: { resourceServerId: before.id, value, description } });
          await audit.record('permission.created', { actor, resource: before.identifier, permission: value }, tx);
          return viewOf(await find(tx, before.id));
        });
      } catch (error) {
        if (duplicate(error)) throw new PermissionExistsError(identifier, value);
        throw error;
      }
    },

    async updatePermission(server, value, { description }, actor) {
      return prisma.$transaction(async (tx) => {
        const before = await find(tx, server);
        const permission = before.permissions.find((held) => held.value === value);
        if (!permission) throw new PermissionNotFoundError(before.identifier, value);
        await tx.permission.update({ where: { resourceServerId_value: { resourceServerId: before.id, value } }, data: { description } });
        await audit.record('permission.updated', { actor, resource: before.identifier, permission: value, before: [`description ${permission.description ?? ''}`], after: [`description ${description ?? ''}`] }, tx);
        return viewOf(await find(tx, before.id));
      });
    },

    async removePermission(server, value, actor) {
      return prisma.$transaction(async (tx) => {
        const before = await find(tx, server);
        if (before.identifier === apiResource && value === ADMIN_SCOPE) throw new BuiltInResourceServerError(apiResource);
        const { count } = await tx.permission.deleteMany({ where: { resourceServerId: before.id, value } });
        if (count === 0) throw new PermissionNotFoundError(before.identifier, value);
        await audit.record('permission.deleted', { actor, resource: before.identifier, permission: value }, tx);
        return viewOf(await find(tx, before.id));
      });
    },
  };
}

function checkIdentifier(identifier: string): void {
  const url = URL.parse(identifier);
  if (!url || !['http:', 'https:'].includes(url.protocol) || identifier.includes('#')) {
    throw new ValidationError([{ field: 'identifier', message: 'must be an absolute http(s) URI without a fragment' }]);
  }
}

function checkPermission(value: string): void {
  if (!SCOPE_TOKEN.test(value)) throw new ValidationError([{ field: 'value', message: 'must be a scope token: printable ASCII without spaces, quotes or backslashes, at most 128 characters' }]);
}
