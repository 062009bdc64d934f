import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Administration } from '../admin/administration.js';
import { SIGNING_ALGORITHMS } from '../provider/keys/key-ring.js';
import { DEFAULT_PUBLISH_FOR_SECONDS, DEFAULT_WATCH_INTERVAL_MS } from '../provider/keys/signing-keys.js';
import { CONSOLE_PATH } from './console-client.js';
import type { ConsolePageKit } from './console-pages.js';
import { formatted, keyRow } from './format.js';

const KEYS_PATH = `${CONSOLE_PATH}/keys`;

export interface KeysPagesDependencies extends ConsolePageKit {
  admin: Pick<Administration, 'keys'>;
  now: () => Date;
}

/** Signing keys: every key with its state and dates, and a rotation behind a confirmation page. */
export function keysPages({ admin, views, page, form, recent, reauthenticate, actorOf, now }: KeysPagesDependencies): Middleware[] {
  const router = new Router({ prefix: KEYS_PATH });

  router.get('/', ...page, async (ctx) => {
    const keys = await admin.keys.list();
    // Newest first: the keys a rotation just made, then the signing ones, then the retired.
    const rows = keys.toSorted((a, b) => b.activatesAt.getTime() - a.activatesAt.getTime() || a.alg.localeCompare(b.alg)).map(keyRow);
    const notice = ctx.query.done === 'rotated' ? 'New keys are published. They sign from the date shown; the keys signing now go on until then.' : undefined;
    await views.render(ctx, 'keys', { keys: rows, notice });
  });

  // A rotation cannot be taken back (the new keys will sign): a confirmation page, and a sign-in of the last few minutes.
  router.get('/rotate', ...page, async (ctx) => {
    if (await reauthenticate(ctx, `${KEYS_PATH}/rotate`)) return;
    await views.render(ctx, 'confirm-key-rotation', {
      algorithms: [...SIGNING_ALGORITHMS],
      signsFrom: formatted(new Date(now().getTime() + DEFAULT_PUBLISH_FOR_SECONDS * 1000)) ?? '',
      publishForHours: DEFAULT_PUBLISH_FOR_SECONDS / 3600,
      watchSeconds: DEFAULT_WATCH_INTERVAL_MS / 1000,
    });
  });

  router.post('/rotate', ...form, recent, async (ctx) => {
    await admin.keys.rotate({}, actorOf(ctx));
    ctx.status = 303;
    ctx.redirect(`${KEYS_PATH}?done=rotated`);
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
