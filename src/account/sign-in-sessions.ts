import type { AuditLog } from '../audit/audit-log.js';
import type { OidcStore } from '../provider/oidc-store.js';
import { SignInSessionNotFoundError } from './errors.js';
import type { SessionDeviceRepository, Sighting } from './session-device-repository.js';
import { describeDevice } from './user-agent.js';

/** One place the user is signed in to Latch: a browser's session, with the apps it signed in to. */
export interface SignInSession {
  /** oidc-provider's session uid (the `sid` of no one: never the cookie's value). */
  uid: string;
  /** The session of the request asking. */
  current: boolean;
  signedInAt?: Date;
  lastSeenAt?: Date;
  expiresAt?: Date;
  /** "Firefox on Windows", from the user agent of its last use. */
  device: string;
  ip?: string;
  /** Clients signed in through this session. */
  clientIds: string[];
}

export interface SignInSessions {
  /** The user's sessions, the current one first, then the most recently seen. */
  list(userId: string, currentUid?: string): Promise<SignInSession[]>;
  /** Signs the session out; SignInSessionNotFoundError for another user's or none. */
  end(userId: string, uid: string): Promise<void>;
  /** Signs out every session of the user but `keepUid`; returns how many. `actor`: an administrator doing it, not the user. */
  endOthers(userId: string, keepUid?: string, options?: { actor?: string }): Promise<number>;
  /** Notes the session's use (address, browser, time), at most once a minute per session. */
  seen(sighting: Sighting): Promise<void>;
}

export interface SignInSessionsDependencies {
  store: Pick<OidcStore, 'listByAccountId' | 'findByUid' | 'destroy' | 'revokeGrant'>;
  devices: SessionDeviceRepository;
  /** Clients that are part of Latch itself (its account page): not listed among a session's apps. */
  hiddenClientIds: ReadonlySet<string>;
  audit: AuditLog;
  now: () => Date;
}

/** A session's last use is rewritten at most this often. */
export const LAST_SEEN_PRECISION_MS = 60_000;

/** The part of oidc-provider's Session payload read here. */
interface SessionPayload {
  jti?: string;
  uid?: string;
  accountId?: string;
  loginTs?: number;
  exp?: number;
  authorizations?: Record<string, { grantId?: string; persistsLogout?: boolean }>;
}

const fromEpoch = (seconds: number | undefined) => (seconds === undefined ? undefined : new Date(seconds * 1000));

/**
 * The user's sign-in sessions, read from oidc-provider's Session rows and the devices Latch noted
 * for them; the one code path for the account page and the REST API. Ending a session does what
 * signing out at /session/end does: the session goes, and with it every grant made in it that was
 * not meant to outlive it (no offline_access), with their tokens.
 */
export function createSignInSessions({ store, devices, hiddenClientIds, audit, now }: SignInSessionsDependencies): SignInSessions {
  const sessionsOf = async (userId: string) =>
    ((await store.listByAccountId('Session', userId, now())) as SessionPayload[]).filter((session) => session.uid !== undefined && session.jti !== undefined);

  const endSession = async (userId: string, session: SessionPayload, actor?: string) => {
    let revoked = 0;
    for (const { grantId, persistsLogout } of Object.values(session.authorizations ?? {})) {
      if (grantId && !persistsLogout) revoked += await store.revokeGrant(grantId);
    }
    await store.destroy('Session', session.jti as string);
    await devices.forget([session.uid as string]);
    await audit.record('session.ended', { userId, actor, sessionUid: session.uid, revoked, via: actor === undefined ? 'account' : 'admin' });
  };

  return {
    async list(userId, currentUid) {
      const [sessions, known] = await Promise.all([sessionsOf(userId), devices.forUser(userId)]);
      const deviceOf = new Map(known.map((device) => [device.sessionUid, device]));
      const listed = sessions.map((session): SignInSession => {
        const uid = session.uid as string;
        const device = deviceOf.get(uid);
        return {
          uid,
          current: uid === currentUid,
          signedInAt: fromEpoch(session.loginTs),
          lastSeenAt: device?.lastSeenAt,
          expiresAt: fromEpoch(session.exp),
          device: describeDevice(device?.userAgent),
          ip: device?.ip,
          clientIds: Object.keys(session.authorizations ?? {}).filter((clientId) => !hiddenClientIds.has(clientId)),
        };
      });
      const recency = (session: SignInSession) => (session.lastSeenAt ?? session.signedInAt ?? new Date(0)).getTime();
      return listed.sort((a, b) => Number(b.current) - Number(a.current) || recency(b) - recency(a));
    },

    async end(userId, uid) {
      const session = (await store.findByUid('Session', uid, now())) as SessionPayload | undefined;
      if (!session?.jti || session.accountId !== userId) throw new SignInSessionNotFoundError();
      await endSession(userId, { ...session, uid });
    },

    async endOthers(userId, keepUid, { actor } = {}) {
      const others = (await sessionsOf(userId)).filter((session) => session.uid !== keepUid);
      for (const session of others) await endSession(userId, session, actor);
      return others.length;
    },

    async seen(sighting) {
      await devices.seen(sighting, LAST_SEEN_PRECISION_MS);
    },
  };
}
