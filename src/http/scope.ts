import type { Middleware } from 'koa';

/**
 * Runs a stack of middleware only for requests under `prefix`, so that each surface (REST API,
 * interaction pages, the OIDC provider) keeps its own body parsing and error format.
 */
export function scopeTo(prefix: string, stack: Middleware[]): Middleware {
  const inScope = (path: string) => path === prefix || path.startsWith(`${prefix}/`);
  return (ctx, next) => {
    if (!inScope(ctx.path)) return next();
    const dispatch = (index: number): Promise<void> => {
      const middleware = stack[index];
      if (!middleware) return next();
      return Promise.resolve(middleware(ctx, () => dispatch(index + 1)));
    };
    return dispatch(0);
  };
}
