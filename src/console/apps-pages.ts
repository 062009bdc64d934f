import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import type { Administration } from '../admin/administration.js';
import { nextAuthCallback, nextAuthEnvironment, nextAuthProvider } from '../admin/nextauth.js';
import { InvalidClientMetadataError, type ClientSummary, type NewClient } from '../provider/client-admin.js';
import { formField } from '../interactions/form.js';
import { CONSOLE_PATH } from './console-client.js';
import type { ConsolePageKit } from './console-pages.js';
import type { AppForm, AppKind } from './console-views.js';
import { formatted } from './format.js';

/**
 * The wizard's kinds of app, and what each asks: a Next.js app only its address (NextAuth's
 * callback and sign-out addresses follow from it), a browser or native app its redirect URIs (it
 * keeps no secret, so PKCE is what protects its codes), a machine client nothing but a name.
 */
export const APP_KINDS: Record<AppKind, { label: string; description: string }> = {
  nextjs: { label: 'Next.js web app (NextAuth)', description: 'A server-rendered app that keeps a client secret: authorization code with PKCE, refresh tokens, sign-out.' },
  spa: { label: 'Single-page or native app', description: 'Runs on the user’s device and can keep no secret: authorization code with PKCE, no client secret.' },
  machine: { label: 'Machine client', description: 'A service acting for itself, with no user: client credentials.' },
};

const isKind = (value: unknown): value is AppKind => typeof value === 'string' && Object.hasOwn(APP_KINDS, value);

/** One address per line (or separated by spaces), as a textarea sends them. */
const uriList = (value: string) => value.split(/\s+/).filter((uri) => uri !== '');

function newClientOf(kind: AppKind, form: AppForm): NewClient {
  const name = form.name.trim() || undefined;
  switch (kind) {
    case 'nextjs': {
      const app = form.appUrl.trim().replace(/\/+$/, '');
      return { name, public: false, firstParty: form.firstParty, redirectUris: app ? [nextAuthCallback(app)] : [], postLogoutRedirectUris: app ? [app] : [], grants: ['authorization_code'] };
    }
    case 'spa':
      return { name, public: true, firstParty: form.firstParty, redirectUris: uriList(form.redirectUris), postLogoutRedirectUris: uriList(form.postLogoutRedirectUris), grants: ['authorization_code'] };
    case 'machine':
      return { name, public: false, firstParty: false, redirectUris: [], postLogoutRedirectUris: [], grants: ['client_credentials'] };
  }
}

const kindOf = (client: ClientSummary): AppKind => (client.grantTypes.includes('client_credentials') ? 'machine' : client.type === 'public' ? 'spa' : 'nextjs');

/** How an app of this kind is configured, ready to copy. */
function configurationOf(issuer: string, client: ClientSummary, clientSecret: string | undefined): { kind: AppKind; env: string[]; snippet: string[] } {
  const kind = kindOf(client);
  const common = [`Issuer: ${issuer}`, `Discovery: ${issuer}/.well-known/openid-configuration`, `Client ID: ${client.clientId}`];
  if (kind === 'machine') {
    return { kind, env: common, snippet: [`curl -u '${client.clientId}:<secret>' -d grant_type=client_credentials ${issuer}/token`] };
  }
  if (kind === 'nextjs') {
    return { kind, env: nextAuthEnvironment({ issuer, client, clientSecret }).map(({ line, note }) => (note ? `${line}   # ${note}` : line)), snippet: nextAuthProvider(client, true) };
  }
  return { kind, env: [...common, 'PKCE: S256 (required)', `Redirect URIs: ${client.redirectUris.join(' ')}`], snippet: [] };
}

export interface AppsPagesDependencies extends Pick<ConsolePageKit, 'views' | 'page' | 'form' | 'actorOf'> {
  issuer: string;
  admin: Pick<Administration, 'clients'>;
  /** Latch's own clients (account page, console): not for an administrator to change here. */
  builtIn: ReadonlySet<string>;
}

/** Applications: the list, the registration wizard, an app's page (redirect URIs, secret rotation). */
export function appsPages({ issuer, admin, views, page, form, builtIn, actorOf }: AppsPagesDependencies): Middleware[] {
  const router = new Router({ prefix: `${CONSOLE_PATH}/apps` });
  const emptyForm: AppForm = { name: '', appUrl: '', redirectUris: '', postLogoutRedirectUris: '', firstParty: true };

  const appOf = async (ctx: Context) => {
    const { id } = ctx.params as { id?: string };
    // A built-in client is as absent here as an unknown one: ClientNotFoundError either way.
    return admin.clients.show(id !== undefined && !builtIn.has(id) ? id : '');
  };

  const renderApp = (ctx: Context, client: ClientSummary, options: { error?: string; redirectUris?: string; postLogoutRedirectUris?: string; status?: number } = {}) =>
    views.render(
      ctx,
      'app',
      {
        app: { clientId: client.clientId, name: client.name ?? client.clientId, kind: APP_KINDS[kindOf(client)].label, type: client.type, firstParty: client.firstParty, grantTypes: client.grantTypes, created: formatted(client.issuedAt) },
        usesRedirects: client.grantTypes.includes('authorization_code'),
        redirectUris: options.redirectUris ?? client.redirectUris.join('\n'),
        postLogoutRedirectUris: options.postLogoutRedirectUris ?? client.postLogoutRedirectUris.join('\n'),
        error: options.error,
        notice: ctx.query.done === 'saved' ? 'The redirect URIs have been saved.' : undefined,
      },
      { status: options.status, title: client.name ?? client.clientId },
    );

  router.get('/', ...page, async (ctx) => {
    const clients = (await admin.clients.list()).filter((client) => !builtIn.has(client.clientId));
    await views.render(ctx, 'apps', { apps: clients.map((client) => ({ clientId: client.clientId, name: client.name ?? client.clientId, kind: APP_KINDS[kindOf(client)].label, created: formatted(client.issuedAt) })) });
  });

  router.get('/new', ...page, async (ctx) => {
    const kind = isKind(ctx.query.kind) ? ctx.query.kind : undefined;
    await views.render(ctx, 'app-new', { kinds: Object.entries(APP_KINDS).map(([value, kind]) => ({ value, ...kind })), kind, values: emptyForm });
  });

  router.post('/', ...form, async (ctx) => {
    const kind = formField(ctx, 'kind');
    if (!isKind(kind)) {
      return views.render(ctx, 'app-new', { kinds: Object.entries(APP_KINDS).map(([value, kind]) => ({ value, ...kind })), values: emptyForm, error: 'Choose what kind of app this is.' }, { status: 400 });
    }
    const values: AppForm = {
      name: formField(ctx, 'name'),
      appUrl: formField(ctx, 'appUrl'),
      redirectUris: formField(ctx, 'redirectUris'),
      postLogoutRedirectUris: formField(ctx, 'postLogoutRedirectUris'),
      firstParty: formField(ctx, 'firstParty') === 'yes',
    };
    let created: Awaited<ReturnType<typeof admin.clients.create>>;
    try {
      created = await admin.clients.create(newClientOf(kind, values), { actor: actorOf(ctx) });
    } catch (error) {
      if (!(error instanceof InvalidClientMetadataError)) throw error;
      // The provider's own words, next to the form that caused them.
      return views.render(ctx, 'app-new', { kinds: Object.entries(APP_KINDS).map(([value, kind]) => ({ value, ...kind })), kind, values, error: error.message }, { status: 422 });
    }
    await views.render(ctx, 'app-secret', { app: { clientId: created.client.clientId, name: created.client.name ?? created.client.clientId }, secret: created.clientSecret, rotated: false, ...configurationOf(issuer, created.client, created.clientSecret) }, { status: 201 });
  });

  router.get('/:id', ...page, async (ctx) => {
    await renderApp(ctx, await appOf(ctx));
  });

  router.post('/:id/redirect-uris', ...form, async (ctx) => {
    const client = await appOf(ctx);
    const redirectUris = formField(ctx, 'redirectUris');
    const postLogoutRedirectUris = formField(ctx, 'postLogoutRedirectUris');
    try {
      await admin.clients.update(client.clientId, { redirectUris: uriList(redirectUris), postLogoutRedirectUris: uriList(postLogoutRedirectUris) }, { actor: actorOf(ctx) });
    } catch (error) {
      if (!(error instanceof InvalidClientMetadataError)) throw error;
      return renderApp(ctx, client, { error: error.message, redirectUris, postLogoutRedirectUris, status: 422 });
    }
    ctx.status = 303;
    ctx.redirect(`${CONSOLE_PATH}/apps/${encodeURIComponent(client.clientId)}?done=saved`);
  });

  // A rotation is irreversible for the app: its old secret stops working at once. Asked first, on a page of its own.
  router.get('/:id/rotate-secret', ...page, async (ctx) => {
    const client = await appOf(ctx);
    await views.render(ctx, 'confirm-rotate', { app: { clientId: client.clientId, name: client.name ?? client.clientId } });
  });

  router.post('/:id/rotate-secret', ...form, async (ctx) => {
    const client = await appOf(ctx);
    const secret = await admin.clients.rotateSecret(client.clientId, { actor: actorOf(ctx) });
    await views.render(ctx, 'app-secret', { app: { clientId: client.clientId, name: client.name ?? client.clientId }, secret, rotated: true, ...configurationOf(issuer, client, secret) });
  });

  // @koa/router types its middleware as needing the `params` and `router` it adds to the context itself.
  return [router.routes() as Middleware, router.allowedMethods() as Middleware];
}
