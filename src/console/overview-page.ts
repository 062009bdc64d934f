import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Administration } from '../admin/administration.js';
import type { ActivitySlot } from '../admin/overview.js';
import { TOKEN_ISSUANCE_FLUSH_MS } from '../provider/token-issuance.js';
import { barChart } from './bar-chart.js';
import { CONSOLE_PATH } from './console-client.js';
import type { ActivityChart, ConsolePageLocals, ConsoleViews } from './console-views.js';
import { age, formatted, keyRow } from './format.js';

const hour = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'UTC' });
const day = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' });

const SERIES = [
  { label: 'sign-ins', className: 'bar-sign-ins' },
  { label: 'failed', className: 'bar-failures' },
];

function activityChart(slots: ActivitySlot[], { id, title, slotName, label, labelEvery }: { id: string; title: string; slotName: string; label: (start: Date) => string; labelEvery: number }): ActivityChart {
  return {
    chart: barChart({ id, title, series: SERIES, slots: slots.map((slot) => ({ label: label(slot.start), values: [slot.signIns, slot.failures] })), labelEvery }),
    slotName,
    signIns: slots.reduce((sum, slot) => sum + slot.signIns, 0),
    failures: slots.reduce((sum, slot) => sum + slot.failures, 0),
  };
}

/** The console's first page: how many users and sessions, how sign-ins and tokens went lately, and the signing keys' state. */
export function overviewPage({ admin, views, page }: { admin: Pick<Administration, 'overview'>; views: ConsoleViews; page: Middleware[] }): Middleware[] {
  const router = new Router({ prefix: CONSOLE_PATH });

  router.get('/', ...page, async (ctx) => {
    const { at, users, activeSessions, activity, tokens, keys } = await admin.overview.figures();
    const signers = keys.filter((key) => key.state === 'active');
    const staged = keys.find((key) => key.state === 'staged');
    const locals: ConsolePageLocals['overview'] = {
      users: { total: users.total, statuses: Object.entries(users.byStatus).map(([status, count]) => ({ status, count })) },
      activeSessions,
      charts: [
        activityChart(activity.hourly, { id: 'sign-ins-hourly', title: 'Sign-ins and failed sign-ins per hour, last 24 hours (UTC)', slotName: 'Hour (UTC)', label: (start) => hour.format(start), labelEvery: 6 }),
        activityChart(activity.daily, { id: 'sign-ins-daily', title: 'Sign-ins and failed sign-ins per day, last 30 days (UTC)', slotName: 'Day (UTC)', label: (start) => day.format(start), labelEvery: 7 }),
      ],
      tokens,
      tokenLagSeconds: TOKEN_ISSUANCE_FLUSH_MS / 1000,
      keys: {
        signers: signers.map((key) => ({ ...keyRow(key), age: age(key.createdAt, at) })),
        published: keys.filter((key) => key.state !== 'expired').length,
        retired: keys.filter((key) => key.state === 'retired').length,
        staged: staged ? { signsFrom: formatted(staged.activatesAt) ?? '' } : undefined,
      },
    };
    await views.render(ctx, 'overview', locals);
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
