import type { AuditLog } from '../audit/audit-log.js';
import type { Database, PrismaClient } from '../db/prisma.js';
import { ValidationError } from '../errors.js';
import { Prisma } from '../generated/prisma/client.js';
import { BuiltInRoleError, PermissionNotFoundError, ResourceServerNotFoundError, RoleExistsError, RoleNotFoundError } from './errors.js';
import { isUuid, ROLE_NAME } from './references.js';
import { ADMIN_ROLE, ADMIN_SCOPE } from './seed.js';

/** A permission as roles hold it: a scope value of one resource server. */
export interface HeldPermission {
  id: string;
  resource: string;
  value: string;
}

/** A permission named by its id, or by its resource server (id or identifier) and value. */
export type PermissionReference = { id: string } | { resource: string; value: string };

export interface RoleView {
  id: string;
  name: string;
  description: string | null;
  createdAt: Date;
  permissions: HeldPermission[];
}

export interface RoleChanges {
  name?: string;
  description?: string | null;
}

/**
 * Roles and the permissions they hold. Every change is one transaction with its audit event
 * (actor, before and after); a role is named by its id or its name. Tokens read roles at each
 * issuance, so a change here reaches the next token on every replica without any notice.
 */
export interface Roles {
  list(): Promise<RoleView[]>;
  /** Throws RoleNotFoundError. */
  show(role: string): Promise<RoleView>;
  /** How many users hold each role, by role name (every role is there, held or not). */
  userCounts(): Promise<Map<string, number>>;
  /** Throws RoleExistsError, ValidationError. */
  create(role: { name: string; description?: string | null }, actor: string): Promise<RoleView>;
  /** Throws RoleNotFoundError, RoleExistsError, BuiltInRoleError (renaming admin), ValidationError. */
  update(role: string, changes: RoleChanges, actor: string): Promise<RoleView>;
  /** Removes it from every user and client. Throws RoleNotFoundError, BuiltInRoleError. */
  delete(role: string, actor: string): Promise<void>;
  /** All or none; idempotent. Throws RoleNotFoundError, ResourceServerNotFoundError, PermissionNotFoundError. */
  grant(role: string, permissions: PermissionReference[], actor: string): Promise<RoleView>;
  /** All or none; idempotent. Throws RoleNotFoundError, ResourceServerNotFoundError, PermissionNotFoundError. */
  revoke(role: string, permissions: PermissionReference[], actor: string): Promise<RoleView>;
}

const WITH_PERMISSIONS = { permissions: { include: { permission: { include: { resourceServer: { select: { identifier: true } } } } } } } as const;
type RoleRow = Prisma.RoleGetPayload<{ include: typeof WITH_PERMISSIONS }>;

const viewOf = (row: RoleRow): RoleView => ({
  id: row.id,
  name: row.name,
  description: row.description,
  createdAt: row.createdAt,
  permissions: row.permissions
    .map(({ permission }) => ({ id: permission.id, resource: permission.resourceServer.identifier, value: permission.value }))
    .sort((a, b) => a.resource.localeCompare(b.resource) || a.value.localeCompare(b.value)),
});

const asList = (permissions: HeldPermission[]) => permissions.map(({ resource, value }) => `${resource} ${value}`);

/** `apiResource`: Latch's own API, whose admin permission the admin role always keeps. */
export function createRoles({ prisma, audit, apiResource }: { prisma: PrismaClient; audit: AuditLog; apiResource: string }): Roles {
  async function find(db: Database, role: string): Promise<RoleRow> {
    const row = await db.role.findUnique({ where: isUuid(role) ? { id: role } : { name: role }, include: WITH_PERMISSIONS });
    if (!row) throw new RoleNotFoundError(role);
    return row;
  }

  async function permissionOf(db: Database, reference: PermissionReference): Promise<HeldPermission> {
    if ('id' in reference) {
      const found = isUuid(reference.id) ? await db.permission.findUnique({ where: { id: reference.id }, include: { resourceServer: { select: { identifier: true } } } }) : null;
      if (!found) throw new PermissionNotFoundError('', reference.id);
      return { id: found.id, resource: found.resourceServer.identifier, value: found.value };
    }
    const { resource, value } = reference;
    const server = await db.resourceServer.findUnique({ where: isUuid(resource) ? { id: resource } : { identifier: resource }, select: { id: true, identifier: true } });
    if (!server) throw new ResourceServerNotFoundError(resource);
    const permission = await db.permission.findUnique({ where: { resourceServerId_value: { resourceServerId: server.id, value } }, select: { id: true } });
    if (!permission) throw new PermissionNotFoundError(server.identifier, value);
    return { id: permission.id, resource: server.identifier, value };
  }

  /** The unique index decides duplicates, so two admins creating the same name at once get one role and one 409. */
  async function uniquely<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') throw new RoleExistsError(name);
      throw error;
    }
  }

  async function changePermissions(role: string, references: PermissionReference[], actor: string, held: boolean): Promise<RoleView> {
    return prisma.$transaction(async (tx) => {
      const before = await find(tx, role);
      const permissions: HeldPermission[] = [];
      for (const reference of references) permissions.push(await permissionOf(tx, reference));
      // Without it no one could administer Latch until a restart seeded it again.
      if (!held && before.name === ADMIN_ROLE && permissions.some(({ resource, value }) => resource === apiResource && value === ADMIN_SCOPE)) throw new BuiltInRoleError(ADMIN_ROLE);
      const ids = permissions.map(({ id }) => id);
      if (held) {
        await tx.rolePermission.createMany({ data: ids.map((permissionId) => ({ roleId: before.id, permissionId })), skipDuplicates: true });
      } else {
        await tx.rolePermission.deleteMany({ where: { roleId: before.id, permissionId: { in: ids } } });
      }
      const after = await find(tx, before.id);
      await audit.record(
        held ? 'role.permissions_granted' : 'role.permissions_revoked',
        { actor, role: after.name, permissions: asList(permissions), before: asList(viewOf(before).permissions), after: asList(viewOf(after).permissions) },
        tx,
      );
      return viewOf(after);
    });
  }

  return {
    async list() {
      const rows = await prisma.role.findMany({ include: WITH_PERMISSIONS, orderBy: { name: 'asc' } });
      return rows.map(viewOf);
    },

    async show(role) {
      return viewOf(await find(prisma, role));
    },

    async userCounts() {
      const rows = await prisma.role.findMany({ select: { name: true, _count: { select: { users: true } } } });
      return new Map(rows.map(({ name, _count }) => [name, _count.users]));
    },

    async create({ name, description = null }, actor) {
      checkName(name);
      return uniquely(name, () =>
        prisma.$transaction(async (tx) => {
          const row = await tx.role.create({ data: { name, description }, include: WITH_PERMISSIONS });
          await audit.record('role.created', { actor, role: name, after: [`name ${name}`, `description ${description ?? ''}`] }, tx);
          return viewOf(row);
        }),
      );
    },

    async update(role, changes, actor) {
      if (changes.name !== undefined) checkName(changes.name);
      return uniquely(changes.name ?? role, () =>
        prisma.$transaction(async (tx) => {
          const before = await find(tx, role);
          if (before.name === ADMIN_ROLE && changes.name !== undefined && changes.name !== ADMIN_ROLE) throw new BuiltInRoleError(ADMIN_ROLE);
          const after = await tx.role.update({ where: { id: before.id }, data: changes, include: WITH_PERMISSIONS });
          await audit.record(
            'role.updated',
            { actor, role: after.name, before: [`name ${before.name}`, `description ${before.description ?? ''}`], after: [`name ${after.name}`, `description ${after.description ?? ''}`] },
            tx,
          );
          return viewOf(after);
        }),
      );
    },

    async delete(role, actor) {
      await prisma.$transaction(async (tx) => {
        const before = await find(tx, role);
        if (before.name === ADMIN_ROLE) throw new BuiltInRoleError(ADMIN_ROLE);
        const users = await tx.userRole.count({ where: { roleId: before.id } });
        const clients = await tx.clientRole.count({ where: { roleId: before.id } });
        await tx.role.delete({ where: { id: before.id } });
        await audit.record('role.deleted', { actor, role: before.name, before: asList(viewOf(before).permissions), users, clients }, tx);
      });
    },

    grant: (role, permissions, actor) => changePermissions(role, permissions, actor, true),
    revoke: (role, permissions, actor) => changePermissions(role, permissions, actor, false),
  };
}

function checkName(name: string): void {
  if (!ROLE_NAME.test(name) || isUuid(name)) {
    throw new ValidationError([{ field: 'name', message: 'must be 1 to 64 letters, digits, ":", ".", "_" or "-", starting with a letter or digit, and not a UUID' }]);
  }
}
