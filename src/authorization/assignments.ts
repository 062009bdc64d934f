import type { AuditLog } from '../audit/audit-log.js';
import type { Database, PrismaClient } from '../db/prisma.js';
import { AssigneeNotFoundError, RoleNotFoundError } from './errors.js';
import { isUuid } from './references.js';

/** Whom roles are assigned to: a user by id, or a client (acting for itself) by its client id. */
export type Assignee = { user: string } | { client: string };

export interface AssignedRole {
  id: string;
  name: string;
  description: string | null;
}

/**
 * Which roles users and clients hold: the one service the admin API, the CLI (`users roles`,
 * `clients create --admin`) and the console call. Each change is one transaction with its audit
 * event, and reaches the next token at once (tokens read assignments at every issuance).
 */
export interface RoleAssignments {
  /** Throws AssigneeNotFoundError. */
  list(assignee: Assignee): Promise<AssignedRole[]>;
  /** Idempotent; true when the role was not held before. Throws AssigneeNotFoundError, RoleNotFoundError. */
  assign(assignee: Assignee, role: string, actor: string): Promise<boolean>;
  /** Idempotent; true when the role was held. Throws AssigneeNotFoundError, RoleNotFoundError. */
  unassign(assignee: Assignee, role: string, actor: string): Promise<boolean>;
  /** Forgets every role of a client that is being deleted (client ids are not users' foreign keys). */
  forgetClient(clientId: string, db?: Database): Promise<void>;
}

export function createRoleAssignments({ prisma, audit }: { prisma: PrismaClient; audit: AuditLog }): RoleAssignments {
  async function checkAssignee(db: Database, assignee: Assignee): Promise<void> {
    if ('user' in assignee) {
      const exists = isUuid(assignee.user) && (await db.user.count({ where: { id: assignee.user } })) > 0;
      if (!exists) throw new AssigneeNotFoundError(`There is no user ${assignee.user}.`);
      return;
    }
    // Clients are oidc-provider's rows; the store keeps them in oidc_payloads.
    const rows = await db.oidcPayload.count({ where: { model: 'Client', id: assignee.client } });
    if (rows === 0) throw new AssigneeNotFoundError(`There is no client ${assignee.client}.`);
  }

  async function roleId(db: Database, role: string): Promise<{ id: string; name: string }> {
    const row = await db.role.findUnique({ where: isUuid(role) ? { id: role } : { name: role }, select: { id: true, name: true } });
    if (!row) throw new RoleNotFoundError(role);
    return row;
  }

  async function held(db: Database, assignee: Assignee): Promise<AssignedRole[]> {
    const select = { role: { select: { id: true, name: true, description: true } } } as const;
    const rows = 'user' in assignee ? await db.userRole.findMany({ where: { userId: assignee.user }, select }) : await db.clientRole.findMany({ where: { clientId: assignee.client }, select });
    return rows.map(({ role }) => role).sort((a, b) => a.name.localeCompare(b.name));
  }

  const auditFieldsOf = (assignee: Assignee) => ('user' in assignee ? { userId: assignee.user } : { clientId: assignee.client });

  async function change(assignee: Assignee, role: string, actor: string, add: boolean): Promise<boolean> {
    return prisma.$transaction(async (tx) => {
      await checkAssignee(tx, assignee);
      const target = await roleId(tx, role);
      const before = (await held(tx, assignee)).map(({ name }) => name);
      let changed: number;
      if ('user' in assignee) {
        const key = { userId: assignee.user, roleId: target.id };
        changed = add ? (await tx.userRole.createMany({ data: [key], skipDuplicates: true })).count : (await tx.userRole.deleteMany({ where: key })).count;
      } else {
        const key = { clientId: assignee.client, roleId: target.id };
        changed = add ? (await tx.clientRole.createMany({ data: [key], skipDuplicates: true })).count : (await tx.clientRole.deleteMany({ where: key })).count;
      }
      if (changed > 0) {
        const after = add ? [...before, target.name].sort() : before.filter((name) => name !== target.name);
        await audit.record(add ? 'role.assigned' : 'role.unassigned', { actor, ...auditFieldsOf(assignee), role: target.name, before, after }, tx);
      }
      return changed > 0;
    });
  }

  return {
    async list(assignee) {
      await checkAssignee(prisma, assignee);
      return held(prisma, assignee);
    },
    assign: (assignee, role, actor) => change(assignee, role, actor, true),
    unassign: (assignee, role, actor) => change(assignee, role, actor, false),
    async forgetClient(clientId, db = prisma) {
      await db.clientRole.deleteMany({ where: { clientId } });
    },
  };
}
