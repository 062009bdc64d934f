import { randomUUID } from 'node:crypto';
import { UserNotFoundError } from '../account/errors.js';
import { createPrismaUserRepository } from '../account/user-repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CorrelatedColumn } from '../db/companion-statement.js';
import type { Database, PrismaClient } from '../db/prisma.js';
import { TooManyRequestsError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import { decryptText, encryptText } from '../provider/keys/key-encryption.js';
import type { SecondFactorThrottle } from '../throttle/second-factor-throttle.js';
import { FactorNotFoundError } from './errors.js';
import { factorRepository as factors, heldFactorsColumn, type HeldFactors, type StoredFactor } from './factor-repository.js';
import { newRecoveryCode, RECOVERY_CODE_COUNT, recoveryCodeHash } from './recovery-codes.js';
import { matchTotp, newTotpSecret, totpUri } from './totp.js';
import { createPrismaPasskeyStore } from './passkeys/passkey-store.js';

export const TOTP = 'totp';
const TOTP_NAME = 'Authenticator app';

export interface FactorSummary {
  id: string;
  kind: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What the enrolment page shows until a first code confirms it. */
export interface TotpEnrolment {
  factorId: string;
  /** Base32, for typing in: the "Setup key". */
  secret: string;
  /** The same as an SVG QR code of its otpauth:// URI, made here: no image leaves Latch. */
  qrSvg: string;
}

export type Confirmation = { confirmed: false } | { confirmed: true; /** Shown once, when this was the first factor. */ recoveryCodes?: string[] };

export interface FactorService {
  /** The user's confirmed factors. */
  list(userId: string): Promise<FactorSummary[]>;
  hasSecondFactor(userId: string): Promise<boolean>;
  /** Every kind of factor the user holds, read at once. */
  held(userId: string): Promise<HeldFactors>;
  /** The same, as a column of the statement that finds the user: the sign-in's credentials read. */
  heldColumn: CorrelatedColumn<HeldFactors>;
  unusedRecoveryCodes(userId: string): Promise<number>;
  /** A new, unconfirmed TOTP factor (any earlier unconfirmed one is dropped). */
  startTotp(user: { id: string; email: string }): Promise<TotpEnrolment>;
  /** The unconfirmed enrolment, to show again; null once confirmed, or if it is not this user's. */
  enrolment(user: { id: string; email: string }, factorId: string): Promise<TotpEnrolment | null>;
  /** Confirms an enrolment with a first code. Throws TooManyRequestsError past the attempts allowed. */
  confirmTotp(userId: string, factorId: string, code: string): Promise<Confirmation>;
  /** Removing the last factor also voids the recovery codes, which only stand in for one. */
  remove(userId: string, factorId: string): Promise<void>;
  /** Ten new codes, voiding the old ones; only for a user with a factor. */
  regenerateRecoveryCodes(userId: string): Promise<string[]>;
  /** A TOTP code at sign-in: its RFC 8176 methods when right, else null. Throws TooManyRequestsError. */
  verifyTotp(userId: string, code: string): Promise<string[] | null>;
  /** A recovery code at sign-in, used up when right (and the user mailed). Throws TooManyRequestsError. */
  verifyRecoveryCode(userId: string, code: string): Promise<string[] | null>;
  /** An admin's reset: every factor and recovery code gone, so the next sign-in is with the password alone. Throws UserNotFoundError. */
  reset(userId: string, actor: string): Promise<{ removed: number }>;
}

export interface FactorServiceDependencies {
  prisma: PrismaClient;
  keyEncryptionKey: Buffer;
  /** Names Latch in authenticator apps. */
  productName: string;
  throttle: SecondFactorThrottle;
  mailer: Mailer;
  audit: AuditLog;
  /** Where the recovery code notice sends the user: the security page. */
  securityPageUrl: string;
  now?: () => Date;
}

const TOO_MANY = 'Too many wrong codes. Try again later.';

export function createFactorService({ prisma, keyEncryptionKey, productName, throttle, mailer, audit, securityPageUrl, now = () => new Date() }: FactorServiceDependencies): FactorService {
  // The factor's id is the additional data: a secret copied into another row does not decrypt there.
  const secretOf = (factor: Pick<StoredFactor, 'id' | 'encryptedSecret'>) => decryptText(factor.encryptedSecret, factor.id, keyEncryptionKey);

  const enrolmentOf = async (factorId: string, secret: string, email: string): Promise<TotpEnrolment> => ({
    factorId,
    secret,
    // Loaded with the first enrolment: no request before it needs a QR code.
    qrSvg: await (await import('qrcode')).default.toString(totpUri(secret, { issuer: productName, account: email }), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
  });

  /** Counts the attempt first, so parallel guesses cannot all slip in before the first failure is recorded. */
  const throttled = async <T>(userId: string, check: () => Promise<T | null>): Promise<T | null> => {
    const gate = await throttle.attempt(userId);
    if (!gate.allowed) throw new TooManyRequestsError(TOO_MANY, gate.retryAfterSeconds);
    const outcome = await check();
    if (outcome !== null) await gate.succeeded();
    return outcome;
  };

  const newRecoveryCodes = async (db: Database, userId: string) => {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await factors.replaceRecoveryCodes(db, userId, codes.map(recoveryCodeHash));
    return codes;
  };

  return {
    async list(userId) {
      const confirmed = await factors.list(prisma, userId, { confirmed: true });
      return confirmed.map(({ id, kind, name, createdAt, lastUsedAt }) => ({ id, kind, name, createdAt, lastUsedAt }));
    },

    hasSecondFactor: (userId) => factors.hasConfirmed(prisma, userId),

    held: (userId) => factors.held(prisma, userId),

    heldColumn: heldFactorsColumn,

    unusedRecoveryCodes: (userId) => factors.unusedRecoveryCodes(prisma, userId),

    async startTotp({ id: userId, email }) {
      const id = randomUUID();
      const secret = newTotpSecret();
      await prisma.$transaction(async (db) => {
        await factors.deleteUnconfirmed(db, userId);
        await factors.create(db, { id, userId, kind: TOTP, name: TOTP_NAME, encryptedSecret: encryptText(secret, id, keyEncryptionKey) });
      });
      return enrolmentOf(id, secret, email);
    },

    async enrolment({ id: userId, email }, factorId) {
      const factor = await factors.find(prisma, userId, factorId);
      if (!factor || factor.confirmedAt !== null) return null;
      return enrolmentOf(factor.id, secretOf(factor), email);
    },

    async confirmTotp(userId, factorId, code) {
      const factor = await factors.find(prisma, userId, factorId);
      if (!factor || factor.confirmedAt !== null) throw new FactorNotFoundError();
      const at = now();
      const outcome = await throttled(userId, async () => {
        const step = matchTotp(secretOf(factor), code, at);
        if (step === null) return null;
        return prisma.$transaction(async (db) => {
          if (!(await factors.useStep(db, factor.id, step, at))) return null;
          const first = !(await factors.hasConfirmed(db, userId));
          await factors.confirm(db, factor.id, at);
          await audit.record('factor.enrolled', { userId, kind: TOTP, factorId: factor.id }, db);
          return { confirmed: true as const, ...(first ? { recoveryCodes: await newRecoveryCodes(db, userId) } : {}) };
        });
      });
      return outcome ?? { confirmed: false };
    },

    async remove(userId, factorId) {
      await prisma.$transaction(async (db) => {
        if (!(await factors.delete(db, userId, factorId))) throw new FactorNotFoundError();
        const last = !(await factors.hasConfirmed(db, userId));
        if (last) await factors.deleteRecoveryCodes(db, userId);
        await audit.record('factor.removed', { userId, factorId, lastFactor: last }, db);
      });
    },

    async regenerateRecoveryCodes(userId) {
      return prisma.$transaction(async (db) => {
        if (!(await factors.hasConfirmed(db, userId))) throw new FactorNotFoundError();
        const codes = await newRecoveryCodes(db, userId);
        await audit.record('factor.recovery_codes_regenerated', { userId }, db);
        return codes;
      });
    },

    async verifyTotp(userId, code) {
      const at = now();
      return throttled(userId, async () => {
        for (const factor of await factors.list(prisma, userId, { confirmed: true })) {
          if (factor.kind !== TOTP) continue;
          const step = matchTotp(secretOf(factor), code, at);
          // A step already used (a replayed code) is refused like a wrong one.
          if (step !== null && (await factors.useStep(prisma, factor.id, step, at))) return ['otp'];
        }
        return null;
      });
    },

    async verifyRecoveryCode(userId, code) {
      const at = now();
      const used = await throttled(userId, () =>
        prisma.$transaction(async (db) => {
          if (!(await factors.useRecoveryCode(db, userId, recoveryCodeHash(code), at))) return null;
          const user = await createPrismaUserRepository(db).findById(userId);
          const remaining = await factors.unusedRecoveryCodes(db, userId);
          if (user) await mailer.queue(db, 'recovery_code_used', user.email, { link: securityPageUrl, remaining });
          await audit.record('interaction.recovery_code_used', { userId, remaining }, db);
          return true;
        }),
      );
      if (!used) return null;
      mailer.flush();
      // A recovery code is a one-time code: RFC 8176 has no method of its own for it.
      return ['otp'];
    },

    async reset(userId, actor) {
      const removed = await prisma.$transaction(async (db) => {
        if (!(await createPrismaUserRepository(db).findById(userId))) throw new UserNotFoundError();
        // Passkeys too: a user's passkey is asked for after the password, so a lost one would lock them out.
        const count = (await factors.deleteAll(db, userId)) + (await createPrismaPasskeyStore(db).removeAll(userId));
        await audit.record('factor.reset', { userId, actor, removed: count }, db);
        return count;
      });
      return { removed };
    },
  };
}
