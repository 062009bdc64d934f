import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Administration } from '../admin/administration.js';
import { ValidationError } from '../errors.js';
import { CONSOLE_PATH } from './console-client.js';
import type { ConsoleViews } from './console-views.js';
import { auditRow } from './format.js';

const PAGE_SIZE = 50;
/** What a datetime-local input sends: a UTC time here, as every date the console shows is. */
const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

function sinceOf(value: string): Date | undefined {
  if (value === '') return undefined;
  const date = LOCAL_DATE_TIME.test(value) ? new Date(`${value}Z`) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) throw new ValidationError([{ field: 'since', message: 'is not a date and time' }], 'The "since" filter is not a date and time.');
  return date;
}

/** The audit trail, newest first: filtered by user, event and time, in keyset pages. */
export function auditPage({ admin, views, page }: { admin: Pick<Administration, 'auditEvents'>; views: ConsoleViews; page: Middleware[] }): Middleware[] {
  const router = new Router({ prefix: `${CONSOLE_PATH}/audit` });

  router.get('/', ...page, async (ctx) => {
    const filter = { user: text(ctx.query.user), event: text(ctx.query.event), since: text(ctx.query.since) };
    const cursor = text(ctx.query.cursor) || undefined;
    const { items, nextCursor } = await admin.auditEvents({ user: filter.user || undefined, event: filter.event || undefined, since: sinceOf(filter.since), cursor, limit: PAGE_SIZE });
    const kept = Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== ''));
    const nextHref = nextCursor === undefined ? undefined : `${CONSOLE_PATH}/audit?${new URLSearchParams({ ...kept, cursor: nextCursor }).toString()}`;
    await views.render(ctx, 'audit', { filter, events: items.map(auditRow), nextHref });
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
