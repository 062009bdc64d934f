import type { Middleware } from 'koa';

/**
 * A request whose body a handler began to read and then left (a body over a size limit) would
 * leave the rest of it in the socket, where the next request on a keep-alive connection waits
 * behind it until the connection times out; behind a proxy that reuses connections, that is
 * another user's request. Such a response closes its connection instead. A body nobody began to
 * read is not this case: Node discards it by itself once the response is sent.
 */
export function closeAfterUnreadBody(): Middleware {
  return async (ctx, next) => {
    // The socket's own request: a handler may hand the ones below it a replayed body (access-token-references.ts).
    const { req } = ctx;
    await next();
    if (req.readableDidRead && !req.complete) ctx.set('Connection', 'close');
  };
}
