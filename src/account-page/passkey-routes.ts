import type Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { ValidationError } from '../errors.js';
import { PasskeyAlreadyRegisteredError, PasskeyRefusedError } from '../factors/passkeys/errors.js';
import type { Passkeys } from '../factors/passkeys/passkeys.js';
import { formField } from '../interactions/form.js';
import { visitorOf } from './routes.js';

export type PasskeyNotice = 'passkey_added' | 'passkey_renamed' | 'passkey_removed';

export const PASSKEY_NOTICES: Record<PasskeyNotice, string> = {
  passkey_added: 'Your passkey has been added: you can sign in with it instead of your password.',
  passkey_renamed: 'The passkey has been renamed.',
  passkey_removed: 'The passkey has been removed: it no longer signs you in.',
};

export interface PasskeyRoutesDependencies {
  /** The security page's form posts: parsed, CSRF-checked, signed in. */
  form: Middleware[];
  passkeys: Pick<Passkeys, 'registrationOptions' | 'register' | 'rename' | 'remove'>;
  /** The security page again, explaining what went wrong with the passkey form. */
  refuse(ctx: Context, message: string, status: number): Promise<void>;
  done(ctx: Context, notice: PasskeyNotice): void;
}

/** The passkeys section of the security page, under its router (`/passkeys/...`). */
export function addPasskeyRoutes(router: Router, { form, passkeys, refuse, done }: PasskeyRoutesDependencies): void {
  // The registration ceremony is bound to this browser's session: its challenge is asked for here (JSON, for assets/passkeys.js)...
  router.post('/passkeys/options', ...form, async (ctx) => {
    const { user, sessionUid } = visitorOf(ctx);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await passkeys.registrationOptions(user, { purpose: 'register', sessionUid });
  });

  // ...and used up by the response posted here.
  router.post('/passkeys', ...form, async (ctx) => {
    const { user, sessionUid } = visitorOf(ctx);
    try {
      await passkeys.register(user, { purpose: 'register', sessionUid }, formField(ctx, 'response'), formField(ctx, 'name'));
    } catch (error) {
      const refusal = registrationRefusal(error);
      if (!refusal) throw error;
      return refuse(ctx, refusal.message, refusal.status);
    }
    done(ctx, 'passkey_added');
  });

  router.post('/passkeys/rename', ...form, async (ctx) => {
    try {
      await passkeys.rename(visitorOf(ctx).user.id, formField(ctx, 'passkey'), formField(ctx, 'name'));
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return refuse(ctx, error.issues.map((issue) => issue.message).join(' '), 400);
    }
    done(ctx, 'passkey_renamed');
  });

  router.post('/passkeys/remove', ...form, async (ctx) => {
    await passkeys.remove(visitorOf(ctx).user.id, formField(ctx, 'passkey'));
    done(ctx, 'passkey_removed');
  });
}

/** The refusals of a passkey registration that the page explains, with their status. */
function registrationRefusal(error: unknown): { message: string; status: number } | undefined {
  if (error instanceof ValidationError) return { message: error.issues.map((issue) => issue.message).join(' '), status: 400 };
  if (error instanceof PasskeyAlreadyRegisteredError) return { message: 'This passkey is registered already.', status: 409 };
  if (error instanceof PasskeyRefusedError) {
    const message = error.reason === 'no_challenge' ? 'The passkey was not added: that took too long, or the page was out of date. Try again.' : 'The passkey was not added: your browser or authenticator sent a response Latch could not verify.';
    return { message, status: 400 };
  }
  return undefined;
}
