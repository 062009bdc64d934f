import type { Context, Middleware } from 'koa';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { SignInSessions } from '../account/sign-in-sessions.js';
import type { Logger } from '../logger.js';

declare module 'koa' {
  interface DefaultState {
    /** Set when oidc-provider answered an authorization from a signed-in session. */
    usedSession?: UsedSession;
  }
}

export interface UsedSession {
  uid: string;
  accountId: string;
}

export interface SessionSightings {
  /** Marks the requests in which the provider completed an authorization for a session. */
  observe(provider: Provider): void;
  /** Mounted in front of the provider: notes the marked session's device once the provider is done (and the session saved). */
  middleware(): Middleware;
  /** Notes a session used on one of Latch's own pages. */
  note(ctx: Context, session: UsedSession): Promise<void>;
}

/**
 * oidc-provider's Session has no room for where it is used from, so Latch notes each session's
 * address, browser and last use beside it (see SignInSessions.seen). A failure to note is logged,
 * never the request's failure: a sign-in must not fail for want of a "last seen" line.
 */
export function createSessionSightings({ sessions, logger, now }: { sessions: Pick<SignInSessions, 'seen'>; logger: Logger; now: () => Date }): SessionSightings {
  const note: SessionSightings['note'] = async (ctx, { uid, accountId }) => {
    try {
      await sessions.seen({ sessionUid: uid, userId: accountId, ip: ctx.ip, userAgent: ctx.get('User-Agent'), at: now() });
    } catch (error) {
      logger.warn({ err: error }, 'could not note where a session was used');
    }
  };

  return {
    observe(provider) {
      provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
        const { session } = ctx.oidc;
        if (session?.accountId) ctx.state.usedSession = { uid: session.uid, accountId: session.accountId };
      });
    },

    middleware() {
      return async (ctx, next) => {
        await next();
        const used = ctx.state.usedSession;
        if (used) await note(ctx, used);
      };
    },

    note,
  };
}
