import type { RouterContext } from '@koa/router';
import type { Context } from 'koa';
import { errors, type Interaction } from 'oidc-provider';
import { TooManyRequestsError } from '../../errors.js';
import { INTERACTION_PATH } from '../../provider/configuration.js';
import { currentInteraction, showCurrentStep } from '../interaction-session.js';
import type { StepDependencies } from './dependencies.js';
import { signInPageWith } from './notices.js';
import type { SecondFactorStep } from './second-factor.js';
import { setRetryAfter } from './retry-after.js';

/**
 * Signed (with the app's cookie keys) and scoped to the one interaction: who proved their password
 * or passkey in this browser but has yet to verify their address, and how (the amr). Following the
 * link then finishes the sign-in here, for that account only, as the sign-in it was.
 */
const PENDING_COOKIE = 'latch.pending';

export interface PendingSignIn {
  userId: string;
  amr: string[];
}

export interface VerificationStep {
  /** The "check your inbox" page, where a sign-in (`amr`: how the user proved who they are) waits for its address to be verified. */
  checkInbox(ctx: Context, interaction: Interaction, pending: PendingSignIn, status?: number): Promise<void>;
  /** POST /interaction/:uid/verify-email: mails a new link. */
  resend(ctx: RouterContext): Promise<void>;
  /** GET /interaction/:uid/verified: where a followed link sends this browser to continue to the client. */
  continueVerified(ctx: RouterContext): Promise<void>;
}

export function createVerificationStep(
  { provider, accounts, views, csrf, selfService }: StepDependencies,
  secondFactor: Pick<SecondFactorStep, 'afterFirstFactor'>,
): VerificationStep {
  const cookieOptions = (uid: string) => ({ signed: true, httpOnly: true, sameSite: 'lax' as const, path: `${INTERACTION_PATH}/${encodeURIComponent(uid)}`, overwrite: true });
  const pendingOf = (ctx: Context, uid: string): PendingSignIn | undefined => {
    const [userId, ...amr] = ctx.cookies.get(PENDING_COOKIE, { ...cookieOptions(uid) })?.split(' ') ?? [];
    return userId ? { userId, amr: amr.length > 0 ? amr : ['pwd'] } : undefined;
  };

  const checkInbox: VerificationStep['checkInbox'] = async (ctx, interaction, { userId, amr }, status = 403) => {
    ctx.cookies.set(PENDING_COOKIE, [userId, ...amr].join(' '), { ...cookieOptions(interaction.uid), secure: ctx.secure });
    await views.render(
      ctx,
      'message',
      {
        heading: 'Check your inbox',
        paragraphs: [
          'Verify your email address before signing in: follow the link we mailed you, in this browser, and you will go on where you left off.',
          'No mail? Look in your spam folder, or ask for a new link.',
        ],
        action: { url: `${INTERACTION_PATH}/${interaction.uid}/verify-email`, label: 'Send a new link', csrf: csrf.token(ctx) },
      },
      status,
    );
  };

  return {
    checkInbox,

    async resend(ctx) {
      const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      if (interaction.prompt.name !== 'login') return showCurrentStep(ctx, interaction);
      const pending = pendingOf(ctx, interaction.uid);
      if (!pending) return signInPageWith(ctx, interaction.uid, 'sign_in_to_resend');
      try {
        await selfService.sendVerification(pending.userId, { interactionUid: interaction.uid });
      } catch (error) {
        if (!(error instanceof TooManyRequestsError)) throw error;
        setRetryAfter(ctx, error.retryAfterSeconds);
        return views.render(ctx, 'message', { heading: 'Too many links', paragraphs: [error.message] }, 429);
      }
      await views.render(ctx, 'message', {
        heading: 'Check your inbox',
        paragraphs: ['We have mailed you a new link. Follow it in this browser to go on where you left off; earlier links no longer work.'],
      });
    },

    async continueVerified(ctx) {
      let interaction;
      try {
        interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
      } catch (error) {
        // The link was followed in another browser than the one signing in: the address is verified all the same.
        if (!(error instanceof errors.SessionNotFound)) throw error;
        return views.render(ctx, 'message', { heading: 'Your email address is verified', paragraphs: ['You can sign in now, from the application you use.'] });
      }
      if (interaction.prompt.name !== 'login') return showCurrentStep(ctx, interaction);
      const pending = pendingOf(ctx, interaction.uid);
      const user = pending === undefined ? null : await accounts.findActive(pending.userId);
      if (!pending || !user?.emailVerified) return signInPageWith(ctx, interaction.uid, 'email_verified');
      ctx.cookies.set(PENDING_COOKIE, null, cookieOptions(interaction.uid));
      // The password or passkey was proved in this browser before the link was followed; a second factor may still be to come.
      await secondFactor.afterFirstFactor(ctx, interaction, user.id, { amr: pending.amr, via: 'email_verification' });
    },
  };
}
