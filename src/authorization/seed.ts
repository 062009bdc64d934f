import type { Config } from '../config.js';
import type { PrismaClient } from '../db/prisma.js';

/** The built-in role, and the permission on Latch's own API that it holds: what the admin API requires. */
export const ADMIN_ROLE = 'admin';
export const ADMIN_SCOPE = 'admin';

/**
 * Makes the database hold at least what the configuration names: Latch's own API with the admin
 * permission and role, and each RESOURCE_SERVERS entry with its scopes as permissions and its
 * introspecting clients. Only ever adds: what an admin created or removed since stays as it is,
 * except that a configured resource server or permission an admin deleted comes back, and the
 * admin role always holds the admin permission. Every
 * statement is an INSERT ... ON CONFLICT, so replicas starting together seed without conflict.
 */
export async function seedAuthorization(prisma: PrismaClient, config: Config): Promise<void> {
  const { apiResource, resourceServers } = config.oidc;
  const servers: [string, string[], string[]][] = [
    [apiResource, [ADMIN_SCOPE], []],
    ...Object.entries(resourceServers).map(([identifier, { scope, clients }]): [string, string[], string[]] => [identifier, scope.split(' '), clients]),
  ];
  await prisma.$transaction(async (tx) => {
    for (const [identifier, permissions, clients] of servers) {
      await tx.$executeRaw`
        INSERT INTO resource_servers (id, identifier, introspecting_clients) VALUES (gen_random_uuid(), ${identifier}, ${clients})
        ON CONFLICT (identifier) DO UPDATE
          SET introspecting_clients = ARRAY(SELECT DISTINCT unnest(resource_servers.introspecting_clients || EXCLUDED.introspecting_clients))`;
      await tx.$executeRaw`
        INSERT INTO permissions (id, resource_server_id, value)
        SELECT gen_random_uuid(), s.id, v FROM resource_servers s, unnest(${permissions}::text[]) AS v WHERE s.identifier = ${identifier}
        ON CONFLICT (resource_server_id, value) DO NOTHING`;
    }
    await tx.$executeRaw`
      INSERT INTO roles (id, name, description) VALUES (gen_random_uuid(), ${ADMIN_ROLE}, 'Administers Latch through its admin API')
      ON CONFLICT (name) DO NOTHING`;
    // An invariant rather than a default: without it no one could reach the admin API to repair it.
    await tx.$executeRaw`
      INSERT INTO role_permissions (role_id, permission_id)
      SELECT r.id, p.id FROM roles r, permissions p JOIN resource_servers s ON s.id = p.resource_server_id
      WHERE r.name = ${ADMIN_ROLE} AND s.identifier = ${apiResource} AND p.value = ${ADMIN_SCOPE}
      ON CONFLICT DO NOTHING`;
  });
}
