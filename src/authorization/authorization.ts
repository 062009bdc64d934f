import type { AuditLog } from '../audit/audit-log.js';
import type { PrismaClient } from '../db/prisma.js';
import { createRoleAssignments, type RoleAssignments } from './assignments.js';
import { createResourceServers, type ResourceServers } from './resource-servers.js';
import { createRoles, type Roles } from './roles.js';

/** What administrators manage: the services the admin API, the CLI and the console share. */
export interface Authorization {
  roles: Roles;
  resourceServers: ResourceServers;
  assignments: RoleAssignments;
}

export function createAuthorization({ prisma, audit, apiResource }: { prisma: PrismaClient; audit: AuditLog; apiResource: string }): Authorization {
  return {
    roles: createRoles({ prisma, audit, apiResource }),
    resourceServers: createResourceServers({ prisma, audit, apiResource }),
    assignments: createRoleAssignments({ prisma, audit }),
  };
}
