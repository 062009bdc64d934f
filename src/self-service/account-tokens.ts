import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../db/prisma.js';

export type TokenPurpose = 'email_verification' | 'password_reset' | 'email_change';

export interface TokenGrant {
  userId: string;
  /** The address the link was mailed to: for an email change, the new one. */
  email: string;
  /** The sign-in the flow started from, if any. */
  interactionUid: string | null;
}

export interface AccountTokens {
  /**
   * A new single-use token for the purpose; any earlier one of the user's for it stops working, and
   * anybody's expired at `now` are swept. Returns the token itself, which is stored only hashed.
   */
  issue(db: Database, purpose: TokenPurpose, grant: TokenGrant, lifetime: { now: Date; expiresAt: Date }): Promise<string>;
  /** Uses the token up: what it was issued for, or null when it is unknown, used, expired or for another purpose. */
  consume(db: Database, purpose: TokenPurpose, token: string, now: Date): Promise<TokenGrant | null>;
  /** What the token was issued for, without using it (to show the page it opens); null as for consume. */
  peek(purpose: TokenPurpose, token: string, now: Date): Promise<TokenGrant | null>;
}

/** 256 bits, base64url: what a link carries. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** What is stored instead of the token: a leaked table lets nobody follow a link. */
function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function createPrismaAccountTokens(prisma: Database): AccountTokens {
  return {
    async issue(db, purpose, { userId, email, interactionUid }, { now, expiresAt }) {
      const token = randomBytes(32).toString('base64url');
      // One statement: the earlier token goes as the new one comes (both or neither, inside or outside a transaction).
      await db.$executeRaw`
        WITH superseded AS (
          DELETE FROM account_tokens WHERE (user_id = ${userId}::uuid AND purpose = ${purpose}::"AccountTokenPurpose") OR expires_at <= ${now})
        INSERT INTO account_tokens (token_hash, purpose, user_id, email, interaction_uid, expires_at)
        VALUES (${hashOf(token)}, ${purpose}::"AccountTokenPurpose", ${userId}::uuid, ${email}, ${interactionUid}, ${expiresAt})`;
      return token;
    },

    async consume(db, purpose, token, now) {
      if (!TOKEN.test(token)) return null;
      // One DELETE: of two requests with the same link, exactly one gets the row.
      const [row] = await db.$queryRaw<{ user_id: string; email: string; interaction_uid: string | null; expires_at: Date }[]>`
        DELETE FROM account_tokens WHERE token_hash = ${hashOf(token)} AND purpose = ${purpose}::"AccountTokenPurpose"
        RETURNING user_id::text, email::text, interaction_uid, expires_at`;
      return row && row.expires_at > now ? { userId: row.user_id, email: row.email, interactionUid: row.interaction_uid } : null;
    },

    async peek(purpose, token, now) {
      if (!TOKEN.test(token)) return null;
      const row = await prisma.accountToken.findFirst({ where: { tokenHash: hashOf(token), purpose, expiresAt: { gt: now } }, select: { userId: true, email: true, interactionUid: true } });
      return row ?? null;
    },
  };
}
