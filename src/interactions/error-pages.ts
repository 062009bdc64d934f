import type { Middleware } from 'koa';
import { errors } from 'oidc-provider';
import { ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { CsrfError, FormBodyError } from './errors.js';
import type { PageLocals, Views } from './views.js';

export interface ErrorPage {
  status: number;
  locals: PageLocals['error'];
  /** Logged instead of the error, for the refusals that are expected. */
  reason?: string;
}

const START_AGAIN = 'Go back to the application and start signing in again.';

function pageFor(error: unknown): ErrorPage {
  if (error instanceof errors.SessionNotFound) {
    return {
      status: 400,
      reason: 'interaction_not_found',
      locals: { heading: 'This sign-in has expired', message: `This sign-in page is no longer valid: it has expired or was already used. ${START_AGAIN}` },
    };
  }
  if (error instanceof CsrfError) {
    return {
      status: 403,
      reason: 'csrf_mismatch',
      locals: { heading: 'This form could not be verified', message: `Nothing was done: the form did not come from this sign-in page, or your browser did not send its cookie. ${START_AGAIN}` },
    };
  }
  if (error instanceof FormBodyError) {
    return { status: 400, reason: 'unreadable_form', locals: { heading: 'This form could not be read', message: START_AGAIN } };
  }
  if (error instanceof ValidationError) {
    return { status: 400, reason: 'invalid_input', locals: { heading: 'This request could not be read', message: `${error.message} ${START_AGAIN}` } };
  }
  return {
    status: 500,
    locals: { heading: 'Something went wrong', message: 'Latch could not complete this step because of a problem on our side. Try again in a few minutes.' },
  };
}

/**
 * No page at this path, or not for this method: said as a page too, not as Koa's bare "Not Found".
 * Mounted in front of oidc-provider as well, for the paths that none of its endpoints serve.
 */
export function noSuchPage(views: Views, message = 'Check the address, or start again from the application you came from.'): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.body === undefined && [404, 405, 501].includes(ctx.status)) {
      await views.render(ctx, 'error', { heading: 'There is no such page', message }, 404);
    }
  };
}

/**
 * The error boundary of Latch's own pages: every failure becomes a friendly page; only unexpected
 * ones log their error. `explain` words the errors of pages other than the interaction's own.
 */
export function errorPages({ views, logger, explain }: { views: Views; logger: Logger; explain?: (error: unknown) => ErrorPage | undefined }): Middleware {
  return async (ctx, next) => {
    try {
      await noSuchPage(views, START_AGAIN)(ctx, next);
    } catch (error) {
      const page = explain?.(error) ?? pageFor(error);
      if (page.reason) logger.info({ event: 'interaction.refused', reason: page.reason }, 'interaction request refused');
      else logger.error({ err: error }, 'interaction failed');
      try {
        await views.render(ctx, 'error', page.locals, page.status);
      } catch (renderFailure) {
        logger.error({ err: renderFailure }, 'error page could not be rendered');
        ctx.status = 500;
        ctx.type = 'text';
        ctx.body = 'Something went wrong.';
      }
    }
  };
}
