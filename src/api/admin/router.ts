import type { Authorization } from '../../authorization/authorization.js';
import { ADMIN_SCOPE } from '../../authorization/seed.js';
import type { ApiRoutes } from '../operation.js';
import { mountResourceServerRoutes } from './resource-servers.js';
import { mountRoleAssignmentRoutes } from './role-assignments.js';
import { mountRoleRoutes } from './roles.js';

/** Where the admin API lives, below /api/v1; with ADMIN_PORT set, only the admin listener serves it. */
export const ADMIN_API_PREFIX = '/admin';
export const ADMIN_API_PATH = `/api/v1${ADMIN_API_PREFIX}`;

export interface AdminDependencies {
  authorization: Authorization;
}

/**
 * The admin API: every operation is mounted below /api/v1/admin and requires the `admin` scope
 * (BearerAuth.requireAdmin), whatever its file declares, so no admin route can be left open.
 * One file per resource, each added here with one line.
 */
export function mountAdminRoutes(routes: ApiRoutes, { authorization }: AdminDependencies): void {
  const admin: ApiRoutes = {
    get operations() {
      return routes.operations;
    },
    add(operation, handler) {
      routes.add({ ...operation, path: `${ADMIN_API_PREFIX}${operation.path}`, scope: ADMIN_SCOPE }, handler);
    },
  };
  mountRoleRoutes(admin, authorization);
  mountResourceServerRoutes(admin, authorization);
  mountRoleAssignmentRoutes(admin, authorization);
}
