import type { Context, Middleware } from 'koa';
import type { ConsoleViews } from './console-views.js';

/** What each section of the console (users, apps, roles, keys, ...) builds its pages from: one set, made by console-surface.ts. */
export interface ConsolePageKit {
  views: ConsoleViews;
  /** The guard for every page, then the form guard (body, CSRF, then the guard) for posts. */
  page: Middleware[];
  form: Middleware[];
  /** In front of destructive posts: the administrator's sign-in is recent. */
  recent: Middleware;
  /** Sends the administrator to sign in again before a destructive action; `returnTo` is where they come back. */
  reauthenticate: (ctx: Context, returnTo: string) => Promise<boolean>;
  /** The administrator, as the audit trail names them. */
  actorOf: (ctx: Context) => string;
}
