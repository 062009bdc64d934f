import { checkEmail, normalizeEmail } from '../account/email.js';
import { EmailTakenError, UserNotFoundError } from '../account/errors.js';
import type { PasswordHasher } from '../account/password-hasher.js';
import { normalizePassword, type PasswordPolicy } from '../account/password-policy.js';
import { createPrismaUserRepository } from '../account/user-repository.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Database, PrismaClient } from '../db/prisma.js';
import { ValidationError } from '../errors.js';
import type { Mailer } from '../mail/mailer.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { AccountTokens, TokenPurpose } from './account-tokens.js';
import { InvalidLinkError } from './errors.js';
import type { MailThrottle } from '../throttle/mail-throttle.js';
import { SELF_SERVICE_PATH } from './paths.js';

/** Where a flow goes once its link has been followed. */
export interface LinkOutcome {
  userId: string;
  /** The sign-in the flow was started from, to continue. */
  interactionUid: string | null;
}

export interface SelfService {
  /** Mails the user a link that verifies their address. TooManyRequestsError past the limit. */
  sendVerification(userId: string, options?: { interactionUid?: string }): Promise<void>;
  /** Follows a verification link: the address is verified. InvalidLinkError otherwise. */
  verifyEmail(token: string): Promise<LinkOutcome>;
  /**
   * Mails a reset link if an active account has the address, and nothing otherwise; either way it
   * returns alike and after the same time, so that nobody learns which addresses have accounts.
   * TooManyRequestsError (counted per address, known or not) past the limit.
   */
  requestPasswordReset(email: string, options?: { interactionUid?: string }): Promise<void>;
  /**
   * A reset link for the account, on an administrator's word: mailed when Latch delivers mail, else
   * returned (once: only its hash is kept) for the administrator to hand over. Not throttled, and
   * for any status: whoever may disable an account may help its owner back in. UserNotFoundError.
   */
  issuePasswordReset(userId: string, options: { actor: string }): Promise<{ link?: string }>;
  /** The address a reset link is for, or null when the link is not (or no longer) valid. */
  passwordResetFor(token: string): Promise<{ email: string } | null>;
  /**
   * Follows a reset link: a new password (the policy applies), every session, grant and token of
   * the account ended, and a notice mailed. ValidationError (fields email, newPassword), InvalidLinkError.
   */
  resetPassword(token: string, input: { email: string; newPassword: string }): Promise<LinkOutcome>;
  /**
   * Mails a confirmation link to the new address and a notice to the old one; the address changes
   * only once the link is followed. ValidationError (field email), EmailTakenError, TooManyRequestsError.
   */
  requestEmailChange(userId: string, newEmail: string): Promise<void>;
  /** Follows an email change link. InvalidLinkError; EmailTakenError when the address was taken meanwhile. */
  confirmEmailChange(token: string): Promise<LinkOutcome>;
}

export interface SelfServiceDependencies {
  prisma: PrismaClient;
  tokens: AccountTokens;
  /** Sessions, grants and tokens of oidc-provider, ended by a reset. */
  oidcStore: Pick<OidcStore, 'revokeByAccountId'>;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  mailer: Mailer;
  throttle: MailThrottle;
  audit: AuditLog;
  issuer: string;
  ttl: { emailVerification: number; passwordReset: number };
  now: () => Date;
  /** Whether mail reaches anyone (production without SMTP_URL keeps it in the outbox): if not, issued reset links are returned. */
  mailDelivered?: boolean;
  /** The least time a reset request takes, known address or not: more than the work for a known one. */
  resetRequestFloorMs?: number;
}

const DEFAULT_RESET_REQUEST_FLOOR_MS = 250;

export function createSelfService({
  prisma,
  tokens,
  oidcStore,
  hasher,
  policy,
  mailer,
  throttle,
  audit,
  issuer,
  ttl,
  now,
  mailDelivered = true,
  resetRequestFloorMs = DEFAULT_RESET_REQUEST_FLOOR_MS,
}: SelfServiceDependencies): SelfService {
  const link = (page: string, token: string) => `${issuer}${SELF_SERVICE_PATH}/${page}?token=${token}`;
  const lifetime = (seconds: number) => {
    const at = now();
    return { now: at, expiresAt: new Date(at.getTime() + seconds * 1000) };
  };
  const users = createPrismaUserRepository(prisma);

  /** One transaction for the change, its mails and its audit event; the worker is told once it commits. */
  const transaction = async <T>(work: (db: Database) => Promise<T>): Promise<T> => {
    const result = await prisma.$transaction(work);
    mailer.flush();
    return result;
  };

  const consume = async (db: Database, purpose: TokenPurpose, token: string) => {
    const grant = await tokens.consume(db, purpose, token, now());
    if (!grant) throw new InvalidLinkError();
    return grant;
  };

  return {
    async sendVerification(userId, { interactionUid } = {}) {
      const user = await users.findById(userId);
      if (!user) throw new UserNotFoundError();
      if (user.emailVerified) return;
      await throttle.attempt('email_verification', user.email, user.id);
      await transaction(async (db) => {
        const token = await tokens.issue(db, 'email_verification', { userId, email: user.email, interactionUid: interactionUid ?? null }, lifetime(ttl.emailVerification));
        await mailer.queue(db, 'email_verification', user.email, { link: link('verify-email', token), hours: Math.round(ttl.emailVerification / 3600) });
        await audit.record('email.verification_sent', { userId }, db);
      });
    },

    verifyEmail: (token) =>
      transaction(async (db) => {
        const grant = await consume(db, 'email_verification', token);
        // The address may have changed since the link was sent: it verifies only the one it went to.
        if (!(await createPrismaUserRepository(db).markEmailVerified(grant.userId, grant.email))) throw new InvalidLinkError();
        await audit.record('email.verified', { userId: grant.userId }, db);
        return { userId: grant.userId, interactionUid: grant.interactionUid };
      }),

    async requestPasswordReset(email, { interactionUid } = {}) {
      const started = performance.now();
      const address = normalizeEmail(email);
      try {
        await throttle.attempt('password_reset', address);
        const user = await users.findByEmail(address);
        if (user?.status === 'active') {
          await transaction(async (db) => {
            const token = await tokens.issue(db, 'password_reset', { userId: user.id, email: user.email, interactionUid: interactionUid ?? null }, lifetime(ttl.passwordReset));
            await mailer.queue(db, 'password_reset', user.email, { link: link('reset-password', token), minutes: Math.round(ttl.passwordReset / 60) });
            await audit.record('password.reset_requested', { userId: user.id }, db);
          });
        } else {
          await audit.record('password.reset_requested', { reason: user ? `account_${user.status}` : 'unknown_email' });
        }
      } finally {
        await sleep(resetRequestFloorMs - (performance.now() - started));
      }
    },

    async issuePasswordReset(userId, { actor }) {
      const user = await users.findById(userId);
      if (!user) throw new UserNotFoundError();
      return transaction(async (db) => {
        const token = await tokens.issue(db, 'password_reset', { userId, email: user.email, interactionUid: null }, lifetime(ttl.passwordReset));
        const resetLink = link('reset-password', token);
        if (mailDelivered) await mailer.queue(db, 'password_reset', user.email, { link: resetLink, minutes: Math.round(ttl.passwordReset / 60) });
        await audit.record('password.reset_requested', { userId, actor, via: 'admin', mailed: mailDelivered }, db);
        return mailDelivered ? {} : { link: resetLink };
      });
    },

    passwordResetFor: async (token) => {
      const grant = await tokens.peek('password_reset', token, now());
      return grant && { email: grant.email };
    },

    async resetPassword(token, { email, newPassword }) {
      const password = normalizePassword(newPassword);
      // Checked before the link is used up, so that a refused password leaves it working.
      const preview = await tokens.peek('password_reset', token, now());
      if (!preview) throw new InvalidLinkError();
      if (normalizeEmail(email).toLowerCase() !== preview.email.toLowerCase()) {
        throw new ValidationError([{ field: 'email', message: 'This link is for another account: enter the address the mail was sent to.' }]);
      }
      const issues = policy.check(password, { email: preview.email }).map((issue) => ({ ...issue, field: 'newPassword' }));
      if (issues.length > 0) throw new ValidationError(issues);
      const passwordHash = await hasher.hash(password);

      // Whoever knew the old password, or holds a token of the account, is out: ended before the new
      // password is stored (should that fail, the account is only signed out, and the link still
      // works), and again once it is, for a sign-in with the old password made in between.
      await oidcStore.revokeByAccountId(preview.userId);
      const outcome = await transaction(async (db) => {
        const grant = await consume(db, 'password_reset', token);
        const accounts = createPrismaUserRepository(db);
        const user = await accounts.findById(grant.userId);
        if (!user || user.email.toLowerCase() !== grant.email.toLowerCase()) throw new InvalidLinkError();
        await accounts.updatePasswordHash(user.id, passwordHash);
        await mailer.queue(db, 'password_changed', user.email, { link: `${issuer}${SELF_SERVICE_PATH}/forgot-password` });
        await audit.record('password.reset', { userId: user.id }, db);
        return { userId: user.id, interactionUid: grant.interactionUid };
      });
      await oidcStore.revokeByAccountId(outcome.userId);
      return outcome;
    },

    async requestEmailChange(userId, newEmail) {
      const email = normalizeEmail(newEmail);
      const issues = checkEmail(email);
      if (issues.length > 0) throw new ValidationError(issues);
      const user = await users.findById(userId);
      if (!user) throw new UserNotFoundError();
      if (user.email.toLowerCase() === email.toLowerCase()) throw new ValidationError([{ field: 'email', message: 'This is already your email address.' }]);
      if (await users.findByEmail(email)) throw new EmailTakenError();
      await throttle.attempt('email_change', email, user.id);
      await transaction(async (db) => {
        const token = await tokens.issue(db, 'email_change', { userId, email, interactionUid: null }, lifetime(ttl.emailVerification));
        await mailer.queue(db, 'email_change', email, { link: link('confirm-email', token), hours: Math.round(ttl.emailVerification / 3600), oldEmail: user.email });
        await mailer.queue(db, 'email_changed', user.email, { link: `${issuer}${SELF_SERVICE_PATH}/forgot-password`, newEmail: email });
        await audit.record('email.change_requested', { userId }, db);
      });
    },

    confirmEmailChange: (token) =>
      transaction(async (db) => {
        const grant = await consume(db, 'email_change', token);
        await createPrismaUserRepository(db).changeEmail(grant.userId, grant.email);
        await audit.record('email.changed', { userId: grant.userId }, db);
        return { userId: grant.userId, interactionUid: grant.interactionUid };
      }),
  };
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
