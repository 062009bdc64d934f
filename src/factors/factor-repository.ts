import { isUuid } from '../account/user-repository.js';
import type { CorrelatedColumn } from '../db/companion-statement.js';
import type { Database } from '../db/prisma.js';

export interface StoredFactor {
  id: string;
  userId: string;
  kind: string;
  name: string;
  encryptedSecret: string;
  confirmedAt: Date | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** How many of each second factor a user has (confirmed TOTP factors, unused recovery codes, passkeys). */
export interface HeldFactors {
  totp: boolean;
  recoveryCodes: number;
  passkeys: number;
}

/**
 * What a user holds of each kind, as one column of whichever statement finds the user: the sign-in
 * reads it with the credentials. Passkeys keep their own store; only their count is read here.
 */
export const heldFactorsColumn: CorrelatedColumn<HeldFactors> = {
  select: (userId) => `json_build_object(
    'confirmed', (SELECT count(*)::int FROM user_factors WHERE user_id = ${userId} AND confirmed_at IS NOT NULL),
    'recoveryCodes', (SELECT count(*)::int FROM recovery_codes WHERE user_id = ${userId} AND used_at IS NULL),
    'passkeys', (SELECT count(*)::int FROM passkeys WHERE user_id = ${userId}))`,
  read(value) {
    const counts = (typeof value === 'string' ? JSON.parse(value) : value) as { confirmed?: number; recoveryCodes?: number; passkeys?: number } | null;
    return { totp: (counts?.confirmed ?? 0) > 0, recoveryCodes: counts?.recoveryCodes ?? 0, passkeys: counts?.passkeys ?? 0 };
  },
};

const HELD = `SELECT ${heldFactorsColumn.select('$1::uuid')} AS held`;

const FACTOR_COLUMNS = { id: true, userId: true, kind: true, name: true, encryptedSecret: true, confirmedAt: true, createdAt: true, lastUsedAt: true } as const;

/** The only Prisma user of user_factors and recovery_codes; each call runs on the client or transaction given. */
export const factorRepository = {
  async create(db: Database, factor: { id: string; userId: string; kind: string; name: string; encryptedSecret: string }): Promise<void> {
    await db.userFactor.create({ data: factor, select: { id: true } });
  },

  // Ids come from forms: one that is no UUID names no factor (and would not cast).
  async find(db: Database, userId: string, id: string): Promise<StoredFactor | null> {
    if (!isUuid(id)) return null;
    return db.userFactor.findFirst({ where: { id, userId }, select: FACTOR_COLUMNS });
  },

  list(db: Database, userId: string, { confirmed }: { confirmed: boolean }): Promise<StoredFactor[]> {
    return db.userFactor.findMany({ where: { userId, confirmedAt: confirmed ? { not: null } : null }, orderBy: { createdAt: 'asc' }, select: FACTOR_COLUMNS });
  },

  /** What a user holds of each kind, in one statement, for a step that did not read it with the user. */
  async held(db: Database, userId: string): Promise<HeldFactors> {
    const [row] = await db.$queryRawUnsafe<[{ held: unknown }]>(HELD, userId);
    return heldFactorsColumn.read(row?.held ?? null);
  },

  async hasConfirmed(db: Database, userId: string): Promise<boolean> {
    return (await db.userFactor.count({ where: { userId, confirmedAt: { not: null } } })) > 0;
  },

  /**
   * Records the use of a code's time step, only if it is later than any used before: one
   * statement, so two requests with the same code cannot both pass. Confirms the factor if it was not.
   */
  async useStep(db: Database, id: string, step: number, at: Date): Promise<boolean> {
    const { count } = await db.userFactor.updateMany({
      where: { id, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: BigInt(step) } }] },
      data: { lastUsedStep: BigInt(step), lastUsedAt: at },
    });
    return count === 1;
  },

  async confirm(db: Database, id: string, at: Date): Promise<void> {
    await db.userFactor.update({ where: { id }, data: { confirmedAt: at }, select: { id: true } });
  },

  /** Unconfirmed enrolments left behind (a page closed before its first code). */
  async deleteUnconfirmed(db: Database, userId: string): Promise<void> {
    await db.userFactor.deleteMany({ where: { userId, confirmedAt: null } });
  },

  async delete(db: Database, userId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return (await db.userFactor.deleteMany({ where: { id, userId } })).count === 1;
  },

  async deleteAll(db: Database, userId: string): Promise<number> {
    await db.recoveryCode.deleteMany({ where: { userId } });
    return (await db.userFactor.deleteMany({ where: { userId } })).count;
  },

  async replaceRecoveryCodes(db: Database, userId: string, codeHashes: string[]): Promise<void> {
    await db.recoveryCode.deleteMany({ where: { userId } });
    await db.recoveryCode.createMany({ data: codeHashes.map((codeHash) => ({ codeHash, userId })) });
  },

  async deleteRecoveryCodes(db: Database, userId: string): Promise<void> {
    await db.recoveryCode.deleteMany({ where: { userId } });
  },

  /** Marks the code used, only if it is this user's and unused: one statement, so it is used once. */
  async useRecoveryCode(db: Database, userId: string, codeHash: string, at: Date): Promise<boolean> {
    return (await db.recoveryCode.updateMany({ where: { codeHash, userId, usedAt: null }, data: { usedAt: at } })).count === 1;
  },

  unusedRecoveryCodes(db: Database, userId: string): Promise<number> {
    return db.recoveryCode.count({ where: { userId, usedAt: null } });
  },
};
