import type { UserStatus } from '../account/user.js';
import type { PrismaClient } from '../db/prisma.js';
import type { SigningKeys, SigningKeySummary } from '../provider/keys/signing-keys.js';

/**
 * A sign-in is counted once, when it completes: the interactions record `interaction.signed_in` at
 * the end of every sign-in (password, passkey, with or without a second step, src/interactions/
 * routes/second-factor.ts `finish`), so its first steps (`interaction.passkey_signed_in`,
 * `interaction.second_factor_succeeded`) are not counted besides.
 */
const SIGNED_IN = 'interaction.signed_in';

/**
 * Failures are the attempts refused: a wrong password, an unknown address or an account that is
 * not active (`account.sign_in_refused`; the account API's check of the current password records it
 * too, and is counted with them: it is a wrong password all the same), a second factor or a passkey
 * refused, and the attempts refused by a lock-out. A sign-in abandoned half-way is no failure.
 */
const FAILED = ['account.sign_in_refused', 'interaction.second_factor_failed', 'interaction.passkey_failed', 'interaction.sign_in_locked_out', 'interaction.second_factor_locked_out'];

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const HOURS = 24;
const DAYS = 30;

/** One bar's worth: the hour or the UTC day starting at `start`. */
export interface ActivitySlot {
  start: Date;
  signIns: number;
  failures: number;
}

export interface OverviewFigures {
  at: Date;
  users: { total: number; byStatus: Record<UserStatus, number> };
  /** Signed-in sessions of Latch not yet expired (the console's own among them). */
  activeSessions: number;
  /** The last 24 hours by hour and the last 30 UTC days by day, oldest first, this hour and today last. */
  activity: { hourly: ActivitySlot[]; daily: ActivitySlot[] };
  /** Tokens issued, busiest grant type first; up to TOKEN_ISSUANCE_FLUSH_MS behind. */
  tokens: { grantType: string; lastDay: number; lastMonth: number }[];
  keys: SigningKeySummary[];
}

export interface Overview {
  figures(): Promise<OverviewFigures>;
}

interface SlotRow {
  slot: Date;
  sign_ins: number;
  failures: number;
}

/** The figures of the console's overview: a handful of aggregate statements, each over an index. */
export function createOverview({ prisma, signingKeys, now }: { prisma: PrismaClient; signingKeys: Pick<SigningKeys, 'list'>; now: () => Date }): Overview {
  const events = [SIGNED_IN, ...FAILED];

  // One statement per chart, over audit_events (event, at); a slot without events is a zero bar.
  async function activity(unit: 'hour' | 'day', count: number, at: Date): Promise<ActivitySlot[]> {
    const size = unit === 'hour' ? HOUR_MS : DAY_MS;
    const last = Math.floor(at.getTime() / size) * size;
    const since = new Date(last - (count - 1) * size);
    const rows = await prisma.$queryRaw<SlotRow[]>`
      SELECT date_trunc(${unit}, at, 'UTC') AS slot,
             count(*) FILTER (WHERE event = ${SIGNED_IN})::int AS sign_ins,
             count(*) FILTER (WHERE event <> ${SIGNED_IN})::int AS failures
      FROM audit_events
      WHERE event = ANY(${events}::text[]) AND at >= ${since} AND at < ${new Date(last + size)}
      GROUP BY 1`;
    const bySlot = new Map(rows.map((row) => [row.slot.getTime(), row]));
    return Array.from({ length: count }, (_, index) => {
      const start = since.getTime() + index * size;
      const row = bySlot.get(start);
      return { start: new Date(start), signIns: row?.sign_ins ?? 0, failures: row?.failures ?? 0 };
    });
  }

  async function tokens(at: Date): Promise<OverviewFigures['tokens']> {
    const dayFrom = new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS - (HOURS - 1) * HOUR_MS);
    const monthFrom = new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS - (DAYS - 1) * DAY_MS);
    const rows = await prisma.$queryRaw<{ grant_type: string; last_day: bigint | null; last_month: bigint }[]>`
      SELECT grant_type, sum(count) FILTER (WHERE hour >= ${dayFrom})::bigint AS last_day, sum(count)::bigint AS last_month
      FROM token_issuance WHERE hour >= ${monthFrom}
      GROUP BY grant_type ORDER BY last_month DESC, grant_type`;
    return rows.map((row) => ({ grantType: row.grant_type, lastDay: Number(row.last_day ?? 0), lastMonth: Number(row.last_month) }));
  }

  return {
    async figures() {
      const at = now();
      const [statuses, activeSessions, hourly, daily, issued, keys] = await Promise.all([
        prisma.user.groupBy({ by: ['status'], _count: { _all: true } }),
        prisma.oidcPayload.count({ where: { model: 'Session', accountId: { not: null }, OR: [{ expiresAt: null }, { expiresAt: { gt: at } }] } }),
        activity('hour', HOURS, at),
        activity('day', DAYS, at),
        tokens(at),
        signingKeys.list(),
      ]);
      const byStatus: Record<UserStatus, number> = { active: 0, disabled: 0, locked: 0 };
      for (const { status, _count } of statuses) byStatus[status] = _count._all;
      return {
        at,
        users: { total: Object.values(byStatus).reduce((sum, value) => sum + value, 0), byStatus },
        activeSessions,
        activity: { hourly, daily },
        tokens: issued,
        keys,
      };
    },
  };
}
