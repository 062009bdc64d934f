import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Views } from '../interactions/views.js';
import type { Outbox } from './outbox.js';

/** The catcher's mailbox holds the latest this many messages. */
const SHOWN = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * /dev/mail, development only (createLatch does not mount it in production): the outbox as a mail
 * client shows it, for following links without an SMTP server.
 */
export function devMailbox({ outbox, views, from }: { outbox: Outbox; views: Views; from: string }): Middleware[] {
  const router = new Router({ prefix: '/dev/mail' });
  const find = async (id: string | undefined) => (id !== undefined && UUID.test(id) ? (await outbox.latest(SHOWN)).find((message) => message.id === id) : undefined);

  router.get('/', async (ctx) => {
    const messages = await outbox.latest(SHOWN);
    await views.render(ctx, 'dev-mail', { messages: messages.map(({ id, subject, to, createdAt, status }) => ({ id, subject, to, date: createdAt, status })) });
  });

  router.get('/:id', async (ctx) => {
    const message = await find(ctx.params.id);
    if (!message) return;
    await views.render(ctx, 'dev-mail-message', { from, message: { ...message, date: message.createdAt } });
  });

  router.get('/:id/html', async (ctx) => {
    const message = await find(ctx.params.id);
    if (!message) return;
    // The mail's own document: its inline styles apply, nothing else it might hold does.
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'");
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'html';
    ctx.body = message.html;
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
