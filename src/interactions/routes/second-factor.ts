import type { RouterContext } from '@koa/router';
import type { Context } from 'koa';
import type { Interaction } from 'oidc-provider';
import { TooManyRequestsError } from '../../errors.js';
import { acrOf, combinedAmr, LEVEL, levelOfAmr, type Level } from '../../factors/authentication-levels.js';
import type { HeldFactors } from '../../factors/factor-repository.js';
import type { TotpEnrolment } from '../../factors/factor-service.js';
import { clientRequiresMfa } from '../../provider/client-metadata.js';
import { INTERACTION_PATH } from '../../provider/configuration.js';
import { formField } from '../form.js';
import { clientNameFor, clientOf, currentInteraction, finishInteraction, showCurrentStep } from '../interaction-session.js';
import type { StepDependencies } from './dependencies.js';
import type { SignInGate } from '../../throttle/sign-in-throttle.js';
import { inMinutes, setRetryAfter } from './retry-after.js';

/**
 * Where a sign-in waits between its first factor and its second, inside the interaction itself
 * (its `result`, stored server-side by oidc-provider's adapter, never in a cookie the browser could
 * edit). Finishing the interaction replaces it with the login; following the interaction's return
 * URL before that finds no login in it and starts the sign-in over.
 */
const PENDING = 'latch_pending_sign_in';

interface PendingSignIn {
  accountId: string;
  /** The methods of the first factor. */
  amr: string[];
  /** The level this sign-in must reach. */
  required: Level;
  /** `verify`: asking for a factor the user has; `enrol`: setting one up (factorId); `enrolled`: its recovery codes shown, amr final. */
  stage: 'verify' | 'enrol' | 'enrolled';
  factorId?: string;
}

const WRONG_CODE = 'That code is not right, or was used already. Try the next one.';
const lockedOut = (seconds: number) => `Too many wrong codes. Try again in ${inMinutes(seconds)}.`;

function pendingOf(interaction: Interaction): PendingSignIn | undefined {
  const pending = interaction.result?.[PENDING] as PendingSignIn | undefined;
  return pending && typeof pending.accountId === 'string' ? pending : undefined;
}

/** The account whose second step this interaction waits for, if any: a passkey asked for there must be theirs. */
export function pendingAccountOf(interaction: Interaction): string | undefined {
  return pendingOf(interaction)?.accountId;
}

/** The sign-in throttle's attempt of a right password: given back with the sign-in's audit record when it finishes, at once otherwise. */
type PasswordGate = Pick<Extract<SignInGate, { allowed: true }>, 'succeeded' | 'success'>;

export interface SecondFactorStep {
  /**
   * Every way a sign-in proves its first factor (password, a verified address after one, a new
   * account) ends here: it finishes the sign-in only once the level it must reach is reached, asking
   * for the user's second factor, or having one set up, first; else the client gets
   * unmet_authentication_requirements. There is no other way to finish a login.
   */
  afterFirstFactor(
    ctx: Context,
    interaction: Interaction,
    userId: string,
    /** `held`: the factors the user holds, when the first factor's own read counted them (the password's); read here otherwise. */
    options: { amr: string[]; via?: string; passwordGate?: PasswordGate; held?: HeldFactors },
  ): Promise<void>;
  /** The page of a pending second step; false when the interaction has none. */
  show(ctx: Context, interaction: Interaction): Promise<boolean>;
  /** POST /interaction/:uid/second-factor */
  verify(ctx: RouterContext): Promise<void>;
  /** POST /interaction/:uid/enrol: the first code of a factor set up during sign-in. */
  confirmEnrolment(ctx: RouterContext): Promise<void>;
  /** POST /interaction/:uid/enrolled: on from the recovery codes. */
  continueEnrolled(ctx: RouterContext): Promise<void>;
  /** POST /interaction/:uid/enrol-cancel: the requirement stays unmet, and the client is told so. */
  cancelEnrolment(ctx: RouterContext): Promise<void>;
}

export function createSecondFactorStep({ provider, accounts, views, csrf, audit, metrics, factors, secondFactorKinds, requiredLevel }: StepDependencies): SecondFactorStep {
  const keep = async (interaction: Interaction, pending: PendingSignIn) => {
    interaction.result = { [PENDING]: pending };
    await interaction.persist();
  };

  const finish = async (ctx: Context, interaction: Interaction, accountId: string, amr: string[], via?: string, passwordGate?: PasswordGate) => {
    const acr = acrOf(amr);
    const fields = { userId: accountId, clientId: interaction.params.client_id, amr, acr, ...(via ? { via } : {}) };
    await (passwordGate ? audit.recordAlong(passwordGate.success, 'interaction.signed_in', fields) : audit.record('interaction.signed_in', fields));
    metrics.signIns.inc({ outcome: 'succeeded' });
    await finishInteraction(ctx, provider(), { login: { accountId, amr, acr } }, { merge: false });
  };

  const unmet = async (ctx: Context, interaction: Interaction, accountId: string, required: Level) => {
    await audit.record('interaction.authentication_requirements_unmet', { userId: accountId, clientId: interaction.params.client_id, required });
    await finishInteraction(
      ctx,
      provider(),
      { error: 'unmet_authentication_requirements', error_description: 'the sign-in could not reach the authentication level the request requires' },
      { merge: false },
    );
  };

  const enrolledKinds = async (userId: string, held?: HeldFactors) => {
    const holding = held ?? (await factors.held(userId));
    return secondFactorKinds.filter((kind) => kind.enrolled(holding));
  };

  const renderVerify = async (ctx: Context, interaction: Interaction, pending: PendingSignIn, error?: string, status = 200) => {
    const kinds = (await enrolledKinds(pending.accountId)).filter((kind) => kind.level >= pending.required);
    await views.render(ctx, 'second-factor', { uid: interaction.uid, clientName: await clientNameFor(provider(), interaction), kinds: kinds.map(({ kind }) => kind), csrf: csrf.token(ctx), error }, status);
  };

  const renderEnrol = async (ctx: Context, interaction: Interaction, enrolment: TotpEnrolment, error?: string, status = 200) => {
    await views.render(ctx, 'enrol-factor', { uid: interaction.uid, clientName: await clientNameFor(provider(), interaction), enrolment, csrf: csrf.token(ctx), error }, status);
  };

  const renderCodes = (ctx: Context, interaction: Interaction, codes: string[]) =>
    views.render(ctx, 'recovery-codes', { codes, continue: { url: `${INTERACTION_PATH}/${interaction.uid}/enrolled`, label: 'I have saved them: continue' }, csrf: csrf.token(ctx) });

  /** The interaction at its login prompt with a pending second step at `stage`; anything else shows the current step. */
  const pendingStep = async (ctx: RouterContext, stage: PendingSignIn['stage']) => {
    const interaction = await currentInteraction(ctx, provider(), ctx.params.uid ?? '');
    const pending = pendingOf(interaction);
    if (interaction.prompt.name !== 'login' || pending?.stage !== stage) {
      showCurrentStep(ctx, interaction);
      return undefined;
    }
    return { interaction, pending };
  };

  const enrolmentOf = async (pending: PendingSignIn) => {
    const user = await accounts.findActive(pending.accountId);
    return user && pending.factorId ? factors.enrolment(user, pending.factorId) : null;
  };

  return {
    async afterFirstFactor(ctx, interaction, userId, { amr, via, passwordGate, held }) {
      const client = await clientOf(provider(), interaction);
      const required = await requiredLevel({ acrValues: interaction.params.acr_values, clientRequiresMfa: client ? clientRequiresMfa(client) : false, userId });
      // A first factor that is two in itself (a passkey with user verification) needs no second, if it reaches the level required.
      if (levelOfAmr(amr) >= Math.max(required, LEVEL.mfa)) return finish(ctx, interaction, userId, amr, via, passwordGate);
      const enrolled = (await enrolledKinds(userId, held)).filter((kind) => !kind.backup);
      // A user who has a second factor always gives it: there is no weaker way in beside it.
      if (enrolled.length === 0 && required <= LEVEL.pwd) return finish(ctx, interaction, userId, amr, via, passwordGate);
      await passwordGate?.succeeded();

      const pending: PendingSignIn = { accountId: userId, amr, required: Math.max(required, LEVEL.mfa), stage: 'verify' };
      if (enrolled.length > 0) {
        if (!enrolled.some((kind) => kind.level >= pending.required)) return unmet(ctx, interaction, userId, required);
        await keep(interaction, pending);
        return renderVerify(ctx, interaction, pending);
      }
      // What can be set up here is an authenticator app; a request for more than it reaches cannot be met.
      const user = await accounts.findActive(userId);
      if (!user || required > LEVEL.mfa) return unmet(ctx, interaction, userId, required);
      const enrolment = await factors.startTotp(user);
      await keep(interaction, { ...pending, stage: 'enrol', factorId: enrolment.factorId });
      await audit.record('interaction.second_factor_enrolment_required', { userId, clientId: interaction.params.client_id, required });
      return renderEnrol(ctx, interaction, enrolment);
    },

    async show(ctx, interaction) {
      const pending = pendingOf(interaction);
      if (!pending) return false;
      if (pending.stage === 'verify') await renderVerify(ctx, interaction, pending);
      else if (pending.stage === 'enrol') {
        const enrolment = await enrolmentOf(pending);
        if (!enrolment) return false;
        await renderEnrol(ctx, interaction, enrolment);
      } else {
        // The codes were shown once; a reload does not show them again, it goes on.
        await finish(ctx, interaction, pending.accountId, pending.amr);
      }
      return true;
    },

    async verify(ctx) {
      const step = await pendingStep(ctx, 'verify');
      if (!step) return;
      const { interaction, pending } = step;
      const kind = secondFactorKinds.find((candidate) => candidate.kind === formField(ctx, 'kind') && candidate.level >= pending.required);
      const input = kind ? formField(ctx, kind.field) : '';
      if (!kind || input.trim() === '') return renderVerify(ctx, interaction, pending, 'Enter a code.', 400);

      let methods: string[] | null;
      try {
        methods = await kind.verify(pending.accountId, input, { interactionUid: interaction.uid, ip: ctx.ip });
      } catch (error) {
        if (!(error instanceof TooManyRequestsError)) throw error;
        await audit.record('interaction.second_factor_locked_out', { userId: pending.accountId, kind: kind.kind });
        metrics.signIns.inc({ outcome: 'locked' });
        setRetryAfter(ctx, error.retryAfterSeconds);
        return renderVerify(ctx, interaction, pending, lockedOut(error.retryAfterSeconds), 429);
      }
      if (!methods) {
        await audit.record('interaction.second_factor_failed', { userId: pending.accountId, kind: kind.kind });
        metrics.signIns.inc({ outcome: 'failed' });
        return renderVerify(ctx, interaction, pending, WRONG_CODE, 401);
      }
      await audit.record('interaction.second_factor_succeeded', { userId: pending.accountId, kind: kind.kind });
      await finish(ctx, interaction, pending.accountId, combinedAmr(pending.amr, methods));
    },

    async confirmEnrolment(ctx) {
      const step = await pendingStep(ctx, 'enrol');
      if (!step) return;
      const { interaction, pending } = step;
      const enrolment = await enrolmentOf(pending);
      if (!enrolment) return showCurrentStep(ctx, interaction);
      let confirmation;
      try {
        confirmation = await factors.confirmTotp(pending.accountId, enrolment.factorId, formField(ctx, 'code'));
      } catch (error) {
        if (!(error instanceof TooManyRequestsError)) throw error;
        setRetryAfter(ctx, error.retryAfterSeconds);
        return renderEnrol(ctx, interaction, enrolment, lockedOut(error.retryAfterSeconds), 429);
      }
      if (!confirmation.confirmed) return renderEnrol(ctx, interaction, enrolment, WRONG_CODE, 400);
      const amr = combinedAmr(pending.amr, ['otp']);
      if (!confirmation.recoveryCodes) return finish(ctx, interaction, pending.accountId, amr);
      await keep(interaction, { accountId: pending.accountId, amr, required: pending.required, stage: 'enrolled' });
      await renderCodes(ctx, interaction, confirmation.recoveryCodes);
    },

    async continueEnrolled(ctx) {
      const step = await pendingStep(ctx, 'enrolled');
      if (!step) return;
      await finish(ctx, step.interaction, step.pending.accountId, step.pending.amr);
    },

    async cancelEnrolment(ctx) {
      const step = await pendingStep(ctx, 'enrol');
      if (!step) return;
      await unmet(ctx, step.interaction, step.pending.accountId, step.pending.required);
    },
  };
}
