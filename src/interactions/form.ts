import type { Context, Middleware } from 'koa';
import { lazyBodyParser } from '../http/lazy-body-parser.js';
import { FormBodyError } from './errors.js';

/** A sign-in or registration form is a few hundred bytes; this leaves room and no more. */
export const FORM_LIMIT_BYTES = 16 * 1024;

/** Parses urlencoded form posts only, size-limited; mounted on the interaction POST routes alone. */
export function formBody(): Middleware {
  return lazyBodyParser(({ koaBody }) =>
    koaBody({
      urlencoded: true,
      json: false,
      text: false,
      multipart: false,
      formLimit: FORM_LIMIT_BYTES,
      onError: (error) => {
        throw new FormBodyError({ cause: error });
      },
    }),
  );
}

/** A posted field as text: absent, repeated or structured values read as empty. */
export function formField(ctx: Context, name: string): string {
  const body = ctx.request.body;
  if (typeof body !== 'object' || body === null) return '';
  // Own properties only: `toString` or `__proto__` are not fields anybody posted.
  const value: unknown = Object.getOwnPropertyDescriptor(body, name)?.value;
  return typeof value === 'string' ? value : '';
}
