import { randomBytes } from 'node:crypto';
import type { ConnectedApp, ConnectedApps } from '../account/connected-apps.js';
import { checkEmail, normalizeEmail } from '../account/email.js';
import { UserNotFoundError } from '../account/errors.js';
import type { PasswordHasher } from '../account/password-hasher.js';
import { normalizePassword, type PasswordPolicy } from '../account/password-policy.js';
import { parseProfileChanges, type ProfileChanges } from '../account/profile-changes.js';
import type { SignInSession, SignInSessions } from '../account/sign-in-sessions.js';
import { createPrismaUserRepository, isUuid } from '../account/user-repository.js';
import type { User, UserStatus } from '../account/user.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Authorization } from '../authorization/authorization.js';
import { RoleNotFoundError } from '../authorization/errors.js';
import type { PrismaClient } from '../db/prisma.js';
import { ValidationError, type FieldIssue } from '../errors.js';
import type { OidcStore } from '../provider/oidc-store.js';
import type { SelfService } from '../self-service/self-service.js';
import { decodeCursor, pageOf, type Page } from './cursor.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface UserFilter {
  /** A case-insensitive substring of the email or the name. */
  query?: string;
  status?: UserStatus;
  /** Users holding the role of this name. */
  role?: string;
  /** From a previous page's nextCursor. */
  cursor?: string;
  limit?: number;
}

export interface NewUserByAdmin {
  email: string;
  /** Without one the user is sent a reset link to choose one. */
  password?: string;
  emailVerified?: boolean;
  profile?: ProfileChanges;
  /** Role names (or ids) to assign; an unknown one refuses the whole creation. */
  roles?: string[];
}

/** What an administrator may change; an absent field is kept, a null claim cleared. */
export interface UserChanges {
  email?: string;
  /** Defaults to false when the email changes: a new address is unproven unless the admin says otherwise. */
  emailVerified?: boolean;
  status?: UserStatus;
  profile?: ProfileChanges;
}

export interface UserDetails {
  user: User;
  /** The names of the roles the user holds. */
  roles: string[];
  /** Browsers signed in to Latch, and apps holding a grant. */
  sessions: number;
  grants: number;
}

/**
 * Everything an administrator does to users, for the admin API, the CLI and the console alike.
 * Each change is audited with the administrator as actor (`actor`: "admin" for the CLI), and an
 * account that stops being active loses its sessions, grants and tokens at once; its next
 * refresh, userinfo call or API request fails (the provider and the API also read the status anew).
 */
export interface UserAdministration {
  list(filter: UserFilter): Promise<Page<User>>;
  /** By id or by email (any letter case); UserNotFoundError. */
  find(idOrEmail: string): Promise<User>;
  show(id: string): Promise<UserDetails>;
  /** ValidationError (fields email, password and the profile's), EmailTakenError. `link`: the reset link, when mail is off. */
  create(input: NewUserByAdmin, actor: string): Promise<{ user: User; link?: string }>;
  update(id: string, changes: UserChanges, actor: string): Promise<User>;
  /** Every session, grant and token of the account, then the account itself. */
  delete(id: string, actor: string): Promise<void>;
  disable(id: string, actor: string): Promise<User>;
  enable(id: string, actor: string): Promise<User>;
  /** Mails a reset link, or returns it once when mail is off. */
  resetPassword(id: string, actor: string): Promise<{ link?: string }>;
  sessions(id: string): Promise<SignInSession[]>;
  /** Returns how many were ended. */
  endSessions(id: string, actor: string): Promise<number>;
  grants(id: string): Promise<ConnectedApp[]>;
  /** Returns how many were revoked. */
  revokeGrants(id: string, actor: string): Promise<number>;
}

export interface UserAdministrationDependencies {
  prisma: PrismaClient;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  tokens: Pick<OidcStore, 'revokeByAccountId'>;
  sessions: SignInSessions;
  connectedApps: ConnectedApps;
  passwordResets: Pick<SelfService, 'issuePasswordReset'>;
  authorization: Pick<Authorization, 'roles' | 'assignments'>;
  audit: AuditLog;
}

export function createUserAdministration({ prisma, hasher, policy, tokens, sessions, connectedApps, passwordResets, authorization, audit }: UserAdministrationDependencies): UserAdministration {
  const users = createPrismaUserRepository(prisma);

  const existing = async (id: string): Promise<User> => {
    const user = await users.findById(id);
    if (!user) throw new UserNotFoundError();
    return user;
  };

  const roleIssues = async (role: string): Promise<FieldIssue[]> => {
    try {
      await authorization.roles.show(role);
      return [];
    } catch (error) {
      if (error instanceof RoleNotFoundError) return [{ field: 'roles', message: `there is no role ${role}` }];
      throw error;
    }
  };

  /** An account that is no longer active keeps nothing: sessions, grants, codes and tokens all go. */
  const endAccessUnlessActive = (user: User) => (user.status === 'active' ? Promise.resolve(0) : tokens.revokeByAccountId(user.id));

  const service: UserAdministration = {
    async list({ query, status, role, cursor, limit = DEFAULT_PAGE_SIZE }) {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
        throw new ValidationError([{ field: 'limit', message: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` }], 'The limit is not valid.');
      }
      const after = cursor === undefined ? undefined : decodeCursor(cursor, isUuid);
      const rows = await users.search({ query: query?.trim(), status, role, after, limit: limit + 1 });
      return pageOf(rows, limit, (user) => ({ at: user.createdAt, id: user.id }));
    },

    async find(idOrEmail) {
      const user = isUuid(idOrEmail) ? await users.findById(idOrEmail) : await users.findByEmail(normalizeEmail(idOrEmail));
      if (!user) throw new UserNotFoundError();
      return user;
    },

    async show(id) {
      const user = await existing(id);
      const [roles, signedIn, granted] = await Promise.all([authorization.assignments.list({ user: id }), sessions.list(id), connectedApps.list(id)]);
      return { user, roles: roles.map((held) => held.name), sessions: signedIn.length, grants: granted.length };
    },

    async create(input, actor) {
      const email = normalizeEmail(input.email);
      const password = input.password === undefined ? undefined : normalizePassword(input.password);
      const profile = parseProfileChanges(input.profile ?? {});
      const issues: FieldIssue[] = [...checkEmail(email), ...(password === undefined ? [] : policy.check(password, { email })), ...(profile.success ? [] : profile.issues)];
      const roles = [...new Set(input.roles ?? [])];
      for (const role of roles) issues.push(...(await roleIssues(role)));
      if (issues.length > 0 || !profile.success) throw new ValidationError(issues, issues.length === 1 ? 'One field is invalid.' : `${issues.length} fields are invalid.`);

      // Without a password, one nobody knows: the account exists, and only the reset link opens it.
      const passwordHash = await hasher.hash(password ?? randomBytes(32).toString('base64url'));
      const user = await users.create({ email, emailVerified: input.emailVerified ?? false, passwordHash, profile: profile.patch });
      try {
        for (const role of roles) await authorization.assignments.assign({ user: user.id }, role, actor);
      } catch (error) {
        // A role deleted since it was checked: no user half-made without the roles asked for.
        await users.delete(user.id);
        throw error;
      }
      await audit.record('account.created', { userId: user.id, actor, via: 'admin', email_verified: user.emailVerified, password_set: password !== undefined, roles });
      if (password !== undefined) return { user };
      return { user, ...(await passwordResets.issuePasswordReset(user.id, { actor })) };
    },

    async update(id, changes, actor) {
      const profile = parseProfileChanges(changes.profile ?? {});
      const email = changes.email === undefined ? undefined : normalizeEmail(changes.email);
      const issues = [...(email === undefined ? [] : checkEmail(email)), ...(profile.success ? [] : profile.issues)];
      if (issues.length > 0 || !profile.success) throw new ValidationError(issues, issues.length === 1 ? 'One field is invalid.' : `${issues.length} fields are invalid.`);

      const before = await existing(id);
      // The same address in another letter case is the same mailbox: its verification stands.
      const emailChanged = email !== undefined && email.toLowerCase() !== before.email.toLowerCase();
      const claims = Object.keys(profile.patch);
      // The claims and the account's fields in one transaction: a refused email leaves the claims unchanged too.
      const user = await prisma.$transaction(async (db) => {
        const repository = createPrismaUserRepository(db);
        if (claims.length > 0) await repository.updateProfile(id, profile.patch);
        return repository.updateAccount(id, { email, emailVerified: changes.emailVerified ?? (emailChanged ? false : undefined), status: changes.status });
      });
      const revoked = before.status === 'active' ? await endAccessUnlessActive(user) : 0;
      // A status change is its own event, so that the trail can be searched for disablings.
      const event = before.status === user.status ? 'account.updated' : `account.${user.status === 'active' ? 'enabled' : user.status}`;
      await audit.record(event, {
        userId: id,
        actor,
        via: 'admin',
        claims,
        ...(before.email === user.email ? {} : { before_email: before.email, after_email: user.email }),
        ...(before.emailVerified === user.emailVerified ? {} : { before_email_verified: before.emailVerified, after_email_verified: user.emailVerified }),
        ...(before.status === user.status ? {} : { before_status: before.status, after_status: user.status, revoked }),
      });
      return user;
    },

    async delete(id, actor) {
      await existing(id);
      // Tokens first: should the deletion then fail, nothing issued for the account still works.
      const revoked = await tokens.revokeByAccountId(id);
      await users.delete(id);
      await audit.record('account.deleted', { userId: id, actor, via: 'admin', revoked });
    },

    disable: (id, actor) => service.update(id, { status: 'disabled' }, actor),

    enable: (id, actor) => service.update(id, { status: 'active' }, actor),

    async resetPassword(id, actor) {
      return passwordResets.issuePasswordReset(id, { actor });
    },

    async sessions(id) {
      await existing(id);
      return sessions.list(id);
    },

    async endSessions(id, actor) {
      await existing(id);
      return sessions.endOthers(id, undefined, { actor });
    },

    async grants(id) {
      await existing(id);
      return connectedApps.list(id);
    },

    async revokeGrants(id, actor) {
      await existing(id);
      return connectedApps.revokeAll(id, { actor });
    },
  };
  return service;
}
