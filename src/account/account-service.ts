import type { AuditLog } from '../audit/audit-log.js';
import type { CompanionQuery, CorrelatedColumn } from '../db/companion-statement.js';
import { ValidationError, type FieldIssue } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkEmail, normalizeEmail } from './email.js';
import { UserNotFoundError } from './errors.js';
import type { PasswordHasher } from './password-hasher.js';
import { hashFormatOf } from './password-hashes/registry.js';
import { normalizePassword, type PasswordPolicy } from './password-policy.js';
import { parseProfileChanges, type ProfileChanges } from './profile-changes.js';
import type { SignInRead, UserRepository } from './user-repository.js';
import type { User } from './user.js';

export interface AccountService {
  /** Throws ValidationError (fields email, password, name) or EmailTakenError. */
  register(input: { email: string; password: string; name?: string }): Promise<User>;
  /**
   * The active user these credentials belong to, or null. Unknown email, wrong password and an
   * account that is not active are indistinguishable to the caller, in result and in time.
   */
  authenticate(email: string, password: string): Promise<User | null>;
  /**
   * The same check, its read made in one statement with a gate that runs first (the sign-in
   * throttle's count) and a column read with the user (the factors they hold). A gate that does not
   * allow the attempt means no password is checked at all: no hash is verified and nothing recorded.
   */
  authenticateAlong<G extends { allowed: boolean }, W>(
    email: string,
    password: string,
    along: { gate: CompanionQuery<G>; withUser: CorrelatedColumn<W> },
  ): Promise<{ gate: G; signedIn: { user: User; withUser: W } | null }>;
  /** The user if it exists and may use Latch (status active), else null. */
  findActive(userId: string): Promise<User | null>;
  /** Throws ValidationError (fields currentPassword, newPassword) or UserNotFoundError. */
  changePassword(userId: string, currentPassword: string, newPassword: string): Promise<void>;
  /** Throws ValidationError (one field per claim) or UserNotFoundError. */
  updateProfile(userId: string, changes: ProfileChanges): Promise<User>;
  disable(userId: string): Promise<User>;
  delete(userId: string): Promise<void>;
}

export interface AccountServiceDependencies {
  users: UserRepository;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  /** Security events (registration, sign-in refusals, password and profile changes) go to the audit trail. */
  audit: AuditLog;
  logger: Logger;
}

// Log lines carry user ids, never what was typed: people paste passwords into email fields.
export function createAccountService({ users, hasher, policy, audit, logger }: AccountServiceDependencies): AccountService {
  return {
    async register(input) {
      const email = normalizeEmail(input.email);
      const password = normalizePassword(input.password);
      const profile = parseProfileChanges({ name: input.name });
      const issues = [...checkEmail(email), ...policy.check(password, { email }), ...(profile.success ? [] : profile.issues)];
      if (issues.length > 0 || !profile.success) throw new ValidationError(issues);

      const user = await users.create({ email, passwordHash: await hasher.hash(password), profile: profile.patch });
      await audit.record('account.registered', { userId: user.id });
      return user;
    },

    async authenticate(email, password) {
      const attempt = normalizePassword(password);
      // One read for a known email and an unknown one alike, and no second read after a right password.
      return (await check(await users.findSignInByEmail(normalizeEmail(email)), attempt))?.user ?? null;
    },

    async authenticateAlong(email, password, { gate, withUser }) {
      const attempt = normalizePassword(password);
      const read = await users.findSignInAlong(normalizeEmail(email), { companion: gate, withUser });
      if (!read.companion.allowed) return { gate: read.companion, signedIn: null };
      const signedIn = await check(read.found, attempt);
      return { gate: read.companion, signedIn: signedIn && { user: signedIn.user, withUser: signedIn.withUser } };
    },

    async findActive(userId) {
      const user = await users.findById(userId);
      return user?.status === 'active' ? user : null;
    },

    async changePassword(userId, currentPassword, newPassword) {
      const credentials = await users.findCredentialsById(userId);
      if (!credentials) throw new UserNotFoundError();

      const next = normalizePassword(newPassword);
      const { valid } = await hasher.verify(credentials.passwordHash, normalizePassword(currentPassword));
      const issues: FieldIssue[] = [
        ...(valid ? [] : [{ field: 'currentPassword', message: 'The current password is not correct.' }]),
        ...policy.check(next, { email: credentials.email }).map((issue) => ({ ...issue, field: 'newPassword' })),
      ];
      if (issues.length > 0) throw new ValidationError(issues);

      await users.updatePasswordHash(userId, await hasher.hash(next));
      await audit.record('account.password_changed', { userId });
    },

    async updateProfile(userId, changes) {
      const parsed = parseProfileChanges(changes);
      if (!parsed.success) throw new ValidationError(parsed.issues);
      const user = await users.findById(userId);
      if (!user) throw new UserNotFoundError();

      const { phoneNumber } = parsed.patch;
      const phoneChanged = phoneNumber !== undefined && phoneNumber !== user.profile.phoneNumber;
      const updated = await users.updateProfile(userId, phoneChanged ? { ...parsed.patch, phoneNumberVerified: false } : parsed.patch);
      await audit.record('account.profile_updated', { userId, claims: Object.keys(parsed.patch) });
      return updated;
    },

    async disable(userId) {
      const user = await users.setStatus(userId, 'disabled');
      await audit.record('account.disabled', { userId });
      return user;
    },

    async delete(userId) {
      await users.delete(userId);
      await audit.record('account.deleted', { userId });
    },
  };

  /** The sign-in read, if it found a user, the password is theirs and they are active; else null. */
  async function check<R extends SignInRead>(found: R | null, attempt: string): Promise<R | null> {
    if (!found) {
      await hasher.verifyDummy(attempt);
      await audit.record('account.sign_in_refused', { reason: 'unknown_email' });
      return null;
    }

    const { userId, status, passwordHash } = found.credentials;
    // Checked even for an account that is not active, so that its status does not show in the timing.
    const { valid, needsRehash } = await hasher.verify(passwordHash, attempt);
    if (!valid || status !== 'active') {
      const reason = valid ? `account_${status}` : 'wrong_password';
      await audit.record('account.sign_in_refused', { reason, userId });
      return null;
    }
    if (needsRehash) await rehash(userId, passwordHash, attempt);
    // Read with the credentials: a user deleted or disabled during the hash is refused at its next
    // step anyway (findAccount reads the account afresh for every code, token and userinfo call).
    return found;
  }

  /** Upgrades a hash made with older parameters or another algorithm (an imported one) while the plaintext is at hand; a failure must not fail the sign-in. */
  async function rehash(userId: string, previousHash: string, password: string): Promise<void> {
    try {
      await users.updatePasswordHash(userId, await hasher.hash(password));
      await audit.record('account.password_rehashed', { userId, from: hashFormatOf(previousHash)?.name ?? 'unknown' });
    } catch (error) {
      logger.warn({ event: 'account.password_rehash_failed', userId, err: error }, 'could not upgrade password hash');
    }
  }
}
