import type pg from 'pg';
import type { Invalidation } from '../db/invalidation.js';
import { invalidatedCache } from '../db/invalidated-cache.js';

/** Who a token is issued to: a user (any grant with an account) or a client acting for itself. */
export type Subject = { kind: 'user'; id: string } | { kind: 'client'; id: string };

/** One role of a subject, and which of its permissions belong to the resource server asked about. */
export interface HeldRole {
  name: string;
  permissions: string[];
}

export interface Entitlements {
  /**
   * The subject's roles, each with its permissions on `resource` (none when the resource is
   * undefined). It runs on every token issuance: served from memory once read, until any change
   * to roles, permissions or assignments commits (announced on the authorization channel).
   */
  rolesOf(subject: Subject, resource: string | undefined): Promise<HeldRole[]>;
}

// One statement per subject kind: the role rows, each with its permission values on the resource.
const ROLES_OF = (assignments: 'user_roles' | 'client_roles', subjectColumn: 'user_id' | 'client_id', cast: string) => `
  SELECT r.name, coalesce(array_agg(p.value ORDER BY p.value) FILTER (WHERE p.value IS NOT NULL), '{}') AS permissions
  FROM ${assignments} a
  JOIN roles r ON r.id = a.role_id
  LEFT JOIN role_permissions rp ON rp.role_id = r.id
  LEFT JOIN permissions p ON p.id = rp.permission_id
    AND p.resource_server_id = (SELECT id FROM resource_servers WHERE identifier = $2)
  WHERE a.${subjectColumn} = $1${cast}
  GROUP BY r.name
  ORDER BY r.name`;

const USER_ROLES = ROLES_OF('user_roles', 'user_id', '::uuid');
const CLIENT_ROLES = ROLES_OF('client_roles', 'client_id', '');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Subjects and resources whose roles are kept: each entry is a few short strings, so the bound is a few MiB at most. */
const CACHED_SUBJECTS = 10_000;

/** Plain SQL on the pg pool, like the oidc store: this is on the token path, where Prisma's overhead shows. */
export function createEntitlements(pool: pg.Pool, invalidation: Invalidation): Entitlements {
  const cache = invalidatedCache<HeldRole[]>(invalidation, CACHED_SUBJECTS);
  return {
    async rolesOf(subject, resource) {
      // An account id that is no UUID names no user: it holds no role (and would not cast).
      if (subject.kind === 'user' && !UUID.test(subject.id)) return [];
      return cache.get(`${subject.kind}\n${subject.id}\n${resource ?? ''}`, async () => {
        const { rows } = await pool.query<HeldRole>(subject.kind === 'user' ? USER_ROLES : CLIENT_ROLES, [subject.id, resource ?? null]);
        return rows;
      });
    },
  };
}

/** The permissions on the resource that the roles grant. */
export const permissionsOf = (roles: HeldRole[]): Set<string> => new Set(roles.flatMap((role) => role.permissions));

/** RFC 9068 §2.2.3.1: the roles that mean something to this resource, those holding one of its permissions. */
export const rolesForResource = (roles: HeldRole[]): string[] => roles.filter((role) => role.permissions.length > 0).map((role) => role.name);
