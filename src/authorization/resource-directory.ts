import type pg from 'pg';
import type { Invalidation } from '../db/invalidation.js';

/** A resource server as the token path needs it. */
export interface DirectoryEntry {
  identifier: string;
  /** Its permission values (the role-gated scopes). */
  permissions: string[];
  /** Clients that may introspect its tokens. */
  introspectingClients: string[];
}

export interface ResourceDirectory {
  /** The resource server with this identifier, or undefined. */
  find(identifier: string): Promise<DirectoryEntry | undefined>;
}

const ALL_SERVERS = `
  SELECT s.identifier, s.introspecting_clients AS "introspectingClients",
         coalesce(array_agg(p.value ORDER BY p.value) FILTER (WHERE p.value IS NOT NULL), '{}') AS permissions
  FROM resource_servers s LEFT JOIN permissions p ON p.resource_server_id = s.id
  GROUP BY s.id`;

/**
 * Resource servers are read on every authorization and token request and change rarely: the whole
 * table is held in memory while the invalidation channel listens, and read again after any change
 * on any process. While it does not listen, every read goes to the database.
 */
export function createResourceDirectory(pool: pg.Pool, invalidation: Invalidation): ResourceDirectory {
  let cached: Promise<Map<string, DirectoryEntry>> | undefined;
  invalidation.subscribe(() => {
    cached = undefined;
  });

  const load = async () => {
    const { rows } = await pool.query<DirectoryEntry>(ALL_SERVERS);
    return new Map(rows.map((row) => [row.identifier, { ...row, introspectingClients: row.introspectingClients ?? [] }]));
  };

  return {
    async find(identifier) {
      if (!invalidation.listening) return (await load()).get(identifier);
      const current = (cached ??= load());
      // A failed read is not kept: the next request tries again.
      current.catch(() => {
        if (cached === current) cached = undefined;
      });
      return (await current).get(identifier);
    },
  };
}
