import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import ejs from 'ejs';
import type { Context } from 'koa';
import type { Csrf } from '../interactions/csrf.js';
import type { BarChart } from './bar-chart.js';
import type { ConsoleScript } from './console-assets.js';
import { CONSOLE_PATH } from './console-client.js';

export interface UserRow {
  id: string;
  email: string;
  name?: string;
  emailVerified: boolean;
  status: string;
  created: string;
}

export interface AuditRow {
  at: string;
  event: string;
  actor?: { text: string; href?: string };
  subject?: { text: string; href?: string };
  app?: { text: string; href?: string };
  ip?: string;
}

export type AppKind = 'nextjs' | 'spa' | 'machine';

/** The wizard's fields, as typed (shown again when the provider refuses them). */
export interface AppForm {
  name: string;
  appUrl: string;
  redirectUris: string;
  postLogoutRedirectUris: string;
  firstParty: boolean;
}

/** A role's permissions on one API, as the roles pages group them. */
export interface PermissionGroup {
  api: { text: string; href: string };
  permissions: { id: string; value: string; description?: string }[];
}

/** The role and API forms' fields, as typed (shown again when a service refuses them), and its refusal. */
export interface FormState<Fields extends string> {
  values: Record<Fields, string>;
  error?: string;
}

/** A signing key as the console lists it, dates in words. */
export interface KeyRow {
  kid: string;
  alg: string;
  state: string;
  created: string;
  signsFrom: string;
  retires?: string;
  leaves?: string;
}

/** A chart of sign-ins and failures, with its numbers in text beside it. */
export interface ActivityChart {
  chart: BarChart;
  /** "Hour" or "Day", the table's first column. */
  slotName: string;
  signIns: number;
  failures: number;
}

/**
 * What each console page (views/console/) is rendered from; every value is text for the template to
 * escape. Every page also gets `csrf`, the browser's anti-forgery token, for its forms and the
 * layout's sign-out button.
 */
export interface ConsolePageLocals {
  overview: {
    users: { total: number; statuses: { status: string; count: number }[] };
    activeSessions: number;
    charts: ActivityChart[];
    tokens: { grantType: string; lastDay: number; lastMonth: number }[];
    tokenLagSeconds: number;
    keys: { signers: (KeyRow & { age: string })[]; published: number; retired: number; staged?: { signsFrom: string } };
  };
  keys: { keys: KeyRow[]; notice?: string };
  'confirm-key-rotation': { algorithms: string[]; signsFrom: string; publishForHours: number; watchSeconds: number };
  users: {
    query: string;
    status: string;
    statuses: { value: string; label: string }[];
    role: string;
    roles: { value: string; label: string }[];
    users: UserRow[];
    nextHref?: string;
    notice?: string;
  };
  user: {
    user: UserRow & { profile: { label: string; value: string }[] };
    sessions: { device: string; ip?: string; lastSeen?: string; signedIn?: string; apps: string[] }[];
    apps: { name: string; scopes: string[]; since: string }[];
    events: AuditRow[];
    auditHref: string;
    /** The roles held, and those that could be assigned. */
    roles: { held: { name: string; href: string }[]; assignable: string[] };
    notice?: string;
    link?: string;
  };
  'confirm-delete': { user: UserRow; error?: string };
  roles: {
    roles: { name: string; href: string; description?: string; groups: PermissionGroup[]; users: number; usersHref: string }[];
    apis: { identifier: string; href: string; name?: string; permissions: string[] }[];
    roleForm: FormState<'name' | 'description'>;
    apiForm: FormState<'identifier' | 'name'>;
    notice?: string;
  };
  role: {
    role: { name: string; href: string; description?: string; builtIn: boolean; created: string; users: number; usersHref: string };
    groups: PermissionGroup[];
    /** The permissions it does not hold yet, by API. */
    grantable: PermissionGroup[];
    notice?: string;
  };
  'confirm-delete-role': { role: { name: string; href: string; users: number }; error?: string };
  api: {
    api: { id: string; identifier: string; name?: string; created: string };
    permissions: { value: string; description?: string }[];
    form: FormState<'value' | 'description'>;
    notice?: string;
  };
  apps: { apps: { clientId: string; name: string; kind: string; created?: string }[] };
  'app-new': { kinds: { value: string; label: string; description: string }[]; kind?: AppKind; values: AppForm; error?: string };
  app: {
    app: { clientId: string; name: string; kind: string; type: string; firstParty: boolean; grantTypes: string[]; created?: string };
    usesRedirects: boolean;
    redirectUris: string;
    postLogoutRedirectUris: string;
    error?: string;
    notice?: string;
  };
  /** The configuration to copy, with the secret shown this once (absent for a public client). */
  'app-secret': { app: { clientId: string; name: string }; kind: AppKind; secret?: string; rotated: boolean; env: string[]; snippet: string[] };
  'confirm-rotate': { app: { clientId: string; name: string } };
  audit: {
    filter: { user: string; event: string; since: string };
    events: AuditRow[];
    nextHref?: string;
  };
}

export type ConsolePageName = keyof ConsolePageLocals;

const TITLES: Record<ConsolePageName, string> = {
  overview: 'Overview',
  keys: 'Signing keys',
  'confirm-key-rotation': 'Rotate signing keys',
  users: 'Users',
  user: 'User',
  'confirm-delete': 'Delete user',
  apps: 'Applications',
  'app-new': 'Register an app',
  app: 'Application',
  'app-secret': 'Application credentials',
  'confirm-rotate': 'Rotate secret',
  roles: 'Roles and APIs',
  role: 'Role',
  'confirm-delete-role': 'Delete role',
  api: 'API',
  audit: 'Audit',
};

/** The console's sections, in the navigation's order. */
export const SECTIONS = [
  { name: 'overview', label: 'Overview', href: CONSOLE_PATH },
  { name: 'users', label: 'Users', href: `${CONSOLE_PATH}/users` },
  { name: 'apps', label: 'Applications', href: `${CONSOLE_PATH}/apps` },
  { name: 'roles', label: 'Roles and APIs', href: `${CONSOLE_PATH}/roles` },
  { name: 'keys', label: 'Signing keys', href: `${CONSOLE_PATH}/keys` },
  { name: 'audit', label: 'Audit', href: `${CONSOLE_PATH}/audit` },
] as const;

const SECTION_OF: Record<ConsolePageName, (typeof SECTIONS)[number]['name']> = {
  overview: 'overview',
  keys: 'keys',
  'confirm-key-rotation': 'keys',
  users: 'users',
  user: 'users',
  'confirm-delete': 'users',
  apps: 'apps',
  'app-new': 'apps',
  app: 'apps',
  'app-secret': 'apps',
  'confirm-rotate': 'apps',
  roles: 'roles',
  role: 'roles',
  'confirm-delete-role': 'roles',
  api: 'roles',
  audit: 'audit',
};

/**
 * Console pages run one script, Latch's own (assets/console.js), admitted by this response's nonce like
 * the inline stylesheet; it fetches console pages (search as you type) and nothing else. As on the
 * sign-in pages, no cache may keep them, and `form-action` is left out for the redirects that
 * follow a post (re-authentication goes through /auth).
 */
function secureConsolePage(ctx: Pick<Context, 'set'>): string {
  const nonce = randomBytes(16).toString('base64');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'`);
  return nonce;
}

export interface ConsoleViews {
  render<Name extends ConsolePageName>(ctx: Context, name: Name, locals: ConsolePageLocals[Name], options?: { status?: number; title?: string }): Promise<void>;
}

/** `cache`: keep compiled templates (off in development, so edits show without a restart). */
export function createConsoleViews({ directory, cache, csrf, script }: { directory: string; cache: boolean; csrf: Pick<Csrf, 'token'>; script: Pick<ConsoleScript, 'src' | 'integrity'> }): ConsoleViews {
  const options = { strict: true, cache, async: false, root: directory } as const;
  const file = (name: string) => resolve(directory, 'console', `${name}.ejs`);

  return {
    async render(ctx, name, locals, { status = 200, title = TITLES[name] } = {}) {
      const nonce = secureConsolePage(ctx);
      const token = csrf.token(ctx);
      const body = await ejs.renderFile(file(name), { ...locals, csrf: token }, options);
      const html = await ejs.renderFile(file('layout'), { title, nonce, body, csrf: token, sections: SECTIONS, current: SECTION_OF[name], script }, options);
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = html;
    },
  };
}
