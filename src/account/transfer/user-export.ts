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

export function createUserExport({ users, audit }: { users: UserRepository; audit: AuditLog }): UserExport {
  return {
    async *exportUsers({ withPasswordHashes, actor }) {
      let exported = 0;
      let afterId: string | undefined;
      for (;;) {
        const page = await users.listWithHashes(afterId, PAGE_SIZE);
        for (const { user, passwordHash } of page) yield `${JSON.stringify(userLineOf(user, [], withPasswordHashes ? passwordHash : undefined))}\n`;
        exported += page.length;
        if (page.length < PAGE_SIZE) break;
        afterId = page.at(-1)?.user.id;
      }
      await audit.record('users.exported', { actor, exported, withPasswordHashes });
    },
  };
}
