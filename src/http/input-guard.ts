import type { Context, Middleware } from 'koa';
import { ValidationError } from '../errors.js';
import { isStorableText, unstorablePath } from './storable-text.js';

const WHAT = 'must not contain a NUL character or an unpaired UTF-16 surrogate';

function decodedPath(ctx: Context): string {
  try {
    return decodeURIComponent(ctx.path);
  } catch {
    // Malformed escapes are the routers' to refuse; what they decode of it is checked where they do.
    return ctx.path;
  }
}

/** What is wrong when the decoded path or query holds text PostgreSQL cannot store; undefined when nothing is. */
export function unstorableUrl(ctx: Context): string | undefined {
  if (!isStorableText(decodedPath(ctx))) return `The request path ${WHAT}.`;
  if (unstorablePath(ctx.query)) return `The query string ${WHAT}.`;
  return undefined;
}

/**
 * Refuses such a request before any handler looks it up. Thrown as a ValidationError, so each
 * surface's error boundary answers it in its own format (problem+json, or the error page).
 */
export function refuseUnstorableUrl(): Middleware {
  return (ctx, next) => {
    const problem = unstorableUrl(ctx);
    if (problem) throw new ValidationError([], problem);
    return next();
  };
}

/** The same for a body Latch parsed itself (mounted after the parser): the field at fault is named. */
export function refuseUnstorableBody(): Middleware {
  return (ctx, next) => {
    const path = unstorablePath(ctx.request.body);
    if (path) throw new ValidationError([{ field: path.join('.'), message: WHAT }], path.length === 0 ? `The request body ${WHAT}.` : 'One field is invalid.');
    return next();
  };
}
