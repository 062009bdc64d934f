import { resolve } from 'node:path';
import ejs from 'ejs';
import type { Context } from 'koa';
import type { PageScript } from '../http/page-scripts.js';
import { securePage } from './page-security.js';

/** What each page in views/ is rendered from. Templates escape every value (`<%=`) except the ones named raw here. */
export interface PageLocals {
  login: { uid: string; clientName: string; email: string; csrf: string; error?: string; notice?: string };
  register: {
    uid: string;
    clientName: string;
    values: { name: string; email: string };
    /** Per field (name, email, password); `form` for what belongs to no single field. */
    errors: Partial<Record<'name' | 'email' | 'password' | 'form', string>>;
    minPasswordLength: number;
    csrf: string;
  };
  consent: { uid: string; clientName: string; scopes: string[]; claims: string[]; resources: string[]; csrf: string };
  /** `form` is oidc-provider's own logout form (with its xsrf token), inserted raw. */
  logout: { form: string; clientName?: string };
  /** oidc-provider names the client only when the user left that client alone and stayed signed in to Latch. */
  'signed-out': { clientName?: string };
  home: { issuer: string; discoveryUrl: string; accountUrl: string };
  error: { heading: string; message: string; details?: { error: string; description?: string }; link?: { href: string; text: string } };
  /** The account page (src/account-page). */
  account: AccountPageLocals;
  /** The account's second factors (src/account-page). */
  security: SecurityPageLocals;
  'security-totp': { enrolment: TotpEnrolmentLocals; csrf: string; error?: string };
  /** A sign-in's second step: one form per kind of factor the user has (views/partials/second-factor/<kind>.ejs). */
  'second-factor': { uid: string; clientName: string; kinds: string[]; csrf: string; error?: string };
  /** A sign-in that needs a second factor the user has yet to set up. */
  'enrol-factor': { uid: string; clientName: string; enrolment: TotpEnrolmentLocals; csrf: string; error?: string };
  /** Shown once, at the first factor's enrolment or a regeneration; `continue` is the one button after. */
  'recovery-codes': { codes: string[]; continue: { url: string; label: string }; csrf: string };
  /** A page of a few sentences, with at most one form button (a CSRF-protected post) and one link. */
  message: { heading: string; paragraphs: string[]; action?: { url: string; label: string; csrf: string }; link?: { href: string; label: string } };
  'forgot-password': { csrf: string; email: string; interactionUid?: string; error?: string };
  'reset-password': { csrf: string; token: string; email: string; minPasswordLength: number; errors: Partial<Record<'email' | 'newPassword' | 'form', string>> };
  'dev-mail': { messages: { id: string; subject: string; to: string; date: Date; status: string }[] };
  'dev-mail-message': { from: string; message: { id: string; subject: string; to: string; date: Date; status: string; text: string } };
}

/** What the account page shows; every value is text for the template to escape. */
export interface AccountPageLocals {
  email: string;
  emailVerified: boolean;
  /** The editable profile claims in form order; `name` is the form field's name. */
  profile: { name: string; label: string; value: string; type: 'text' | 'url' | 'tel'; autocomplete: string; hint?: string; error?: string }[];
  apps: { clientId: string; name: string; permissions: string[]; resources: string[]; since: string }[];
  sessions: { uid: string; current: boolean; device: string; ip?: string; lastSeen?: string; signedIn?: string; apps: string[] }[];
  notice?: string;
  /** Per password field (currentPassword, newPassword), the new email, and `profile` for the profile form as a whole. */
  errors: Partial<Record<'currentPassword' | 'newPassword' | 'email' | 'profile', string>>;
  minPasswordLength: number;
  csrf: string;
}

/** `qrSvg` is inserted raw: SVG markup made by the qrcode package from Latch's own otpauth:// URI. */
export interface TotpEnrolmentLocals {
  factorId: string;
  secret: string;
  qrSvg: string;
}

export interface SecurityPageLocals {
  factors: { id: string; name: string; added: string; lastUsed?: string }[];
  recoveryCodesLeft: number;
  /** `kind` says whether the key is synced between devices or bound to one authenticator. */
  passkeys: { id: string; name: string; kind: string; created: string; lastUsed?: string }[];
  maxPasskeyNameLength: number;
  /** What went wrong with the passkey form just posted. */
  passkeyError?: string;
  notice?: string;
  csrf: string;
}

export type PageName = keyof PageLocals;

const TITLES: Record<Exclude<PageName, 'error' | 'message'>, string> = {
  login: 'Sign in',
  register: 'Create an account',
  consent: 'Allow access',
  logout: 'Sign out',
  'signed-out': 'Signed out',
  home: 'OpenID Connect provider',
  account: 'Your account',
  security: 'Security',
  'security-totp': 'Add an authenticator app',
  'second-factor': 'Two-step verification',
  'enrol-factor': 'Set up two-step verification',
  'recovery-codes': 'Your recovery codes',
  'forgot-password': 'Forgot your password?',
  'reset-password': 'Choose a new password',
  'dev-mail': 'Mail',
  'dev-mail-message': 'Mail',
};

export interface Views {
  /** Answers the request with a page of views/ inside the shared layout, with the page security headers. */
  render<Name extends PageName>(ctx: Context, name: Name, locals: PageLocals[Name], status?: number): Promise<void>;
}

/**
 * `cache`: keep compiled templates (off in development, so that edits show without a restart).
 * `scripts`: the script tags of the pages that run any (every other page runs none).
 */
export function createViews({ directory, cache, scripts = {} }: { directory: string; cache: boolean; scripts?: Partial<Record<PageName, PageScript[]>> }): Views {
  // strict: templates read `locals.x`, so a misspelt name fails loudly instead of rendering nothing.
  const options = { strict: true, cache, async: false } as const;
  const file = (name: string) => resolve(directory, `${name}.ejs`);

  return {
    async render(ctx, name, locals, status = 200) {
      const pageScripts = scripts[name] ?? [];
      const nonce = securePage(ctx, { scripts: pageScripts.length > 0 });
      const title = name === 'error' || name === 'message' ? (locals as PageLocals['error' | 'message']).heading : TITLES[name as Exclude<PageName, 'error' | 'message'>];
      const body = await ejs.renderFile(file(name), locals, options);
      const html = await ejs.renderFile(file('layout'), { title, nonce, body, scripts: pageScripts }, options);
      ctx.status = status;
      ctx.type = 'html';
      ctx.body = html;
    },
  };
}
