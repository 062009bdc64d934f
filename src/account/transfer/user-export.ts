import type pg from 'pg';
import type { AuditLog } from '../../audit/audit-log.js';
import type { UserRepository } from '../user-repository.js';
import { userLineOf } from './user-line.js';

export interface ExportOptions {
  /** Without it, lines carry no password_hash: a file that can leak without exposing a password. */
  withPasswordHashes: boolean;
  /** Who exports, for the audit trail. */
  actor: string;
}

export interface UserExport {
  /** The users as JSON lines, one string per line (newline included), read page by page by id: memory stays bounded. */
  exportUsers(options: ExportOptions): AsyncGenerator<string>;
}

/** Users per read: one indexed range scan each. */
const PAGE_SIZE = 1000;

const ROLES_OF = `SELECT ur.user_id::text AS user_id, array_agg(r.name ORDER BY r.name) AS roles
  FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ANY($1::uuid[]) GROUP BY ur.user_id`;

/** The role names of a page of users, in one statement. */
async function rolesOf(pool: pg.Pool, userIds: string[]): Promise<Map<string, string[]>> {
  const { rows } = await pool.query<{ user_id: string; roles: string[] }>(ROLES_OF, [userIds]);
  return new Map(rows.map((row) => [row.user_id, row.roles]));
}

export function createUserExport({ users, pool, audit }: { users: UserRepository; pool: pg.Pool; audit: AuditLog }): UserExport {
  return {
    async *exportUsers({ withPasswordHashes, actor }) {
      let exported = 0;
      let afterId: string | undefined;
      for (;;) {
        const page = await users.listWithHashes(afterId, PAGE_SIZE);
        const roles = await rolesOf(pool, page.map(({ user }) => user.id));
        for (const { user, passwordHash } of page) yield `${JSON.stringify(userLineOf(user, roles.get(user.id) ?? [], withPasswordHashes ? passwordHash : undefined))}\n`;
        exported += page.length;
        if (page.length < PAGE_SIZE) break;
        afterId = page.at(-1)?.user.id;
      }
      await audit.record('users.exported', { actor, exported, withPasswordHashes });
    },
  };
}
