import type { PrismaClient } from '../generated/prisma/client.js';

/** Where a sign-in session was last used from. */
export interface SessionDevice {
  sessionUid: string;
  ip: string;
  userAgent: string;
  createdAt: Date;
  lastSeenAt: Date;
}

export interface Sighting {
  sessionUid: string;
  userId: string;
  ip: string;
  userAgent: string;
  at: Date;
}

/** Storage of session_devices: the only Prisma user of that table. */
export interface SessionDeviceRepository {
  /**
   * Records that the session was used. A known session is written again only once `refreshAfterMs`
   * have passed since it was last seen, so that busy sessions do not write on every request.
   * The first sighting of a session also forgets the user's devices whose session is gone.
   */
  seen(sighting: Sighting, refreshAfterMs: number): Promise<void>;
  forUser(userId: string): Promise<SessionDevice[]>;
  forget(sessionUids: string[]): Promise<void>;
}

/** Longest user agent kept: enough to name any real browser, bounded against junk headers. */
const USER_AGENT_MAX = 512;

export function createPrismaSessionDeviceRepository(prisma: PrismaClient): SessionDeviceRepository {
  return {
    async seen({ sessionUid, userId, ip, userAgent, at }, refreshAfterMs) {
      const agent = userAgent.slice(0, USER_AGENT_MAX);
      const staleBefore = new Date(at.getTime() - refreshAfterMs);
      // One statement whatever the case; xmax = 0 tells a fresh insert from an update.
      const written = await prisma.$queryRaw<{ inserted: boolean }[]>`
        INSERT INTO session_devices (session_uid, user_id, ip, user_agent, created_at, last_seen_at)
        VALUES (${sessionUid}, ${userId}::uuid, ${ip}, ${agent}, ${at}, ${at})
        ON CONFLICT (session_uid) DO UPDATE SET ip = EXCLUDED.ip, user_agent = EXCLUDED.user_agent, last_seen_at = EXCLUDED.last_seen_at
          WHERE session_devices.last_seen_at <= ${staleBefore} AND session_devices.user_id = EXCLUDED.user_id
        RETURNING (xmax = 0) AS inserted`;
      if (!written[0]?.inserted) return;
      await prisma.$executeRaw`
        DELETE FROM session_devices d WHERE d.user_id = ${userId}::uuid AND d.session_uid <> ${sessionUid}
          AND NOT EXISTS (SELECT 1 FROM oidc_payloads s WHERE s.model = 'Session' AND s.uid = d.session_uid)`;
    },

    async forUser(userId) {
      return prisma.sessionDevice.findMany({
        where: { userId },
        select: { sessionUid: true, ip: true, userAgent: true, createdAt: true, lastSeenAt: true },
      });
    },

    async forget(sessionUids) {
      await prisma.sessionDevice.deleteMany({ where: { sessionUid: { in: sessionUids } } });
    },
  };
}
