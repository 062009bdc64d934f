import type { Middleware } from 'koa';
import type * as KoaBodyModule from 'koa-body';

type KoaBody = typeof KoaBodyModule;

/**
 * A koa-body parser made at the first request that reaches it, not at start: koa-body and the
 * parsers it loads eagerly (co-body, qs, formidable, with their dependencies) are some 80
 * modules, and a process's first requests (health checks, discovery, tokens) parse no body.
 */
export function lazyBodyParser(build: (koaBody: KoaBody) => Middleware): Middleware {
  let parser: Promise<Middleware> | undefined;
  return async (ctx, next) => {
    const parse = await (parser ??= import('koa-body').then(build));
    return parse(ctx, next);
  };
}
