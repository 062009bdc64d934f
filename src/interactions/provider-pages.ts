import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderPages } from '../provider/configuration.js';
import { nameOf } from './interaction-session.js';
import type { Views } from './views.js';

/** What the error page tells a person, by OAuth error code; the code itself is shown below it for developers. */
const EXPLANATIONS: Record<string, { heading: string; message: string }> = {
  invalid_client: {
    heading: 'Unknown application',
    message: 'The application that sent you here is not registered with Latch. Go back to it and try again, or contact its support.',
  },
  invalid_redirect_uri: {
    heading: 'Unexpected return address',
    message: 'The application asked to send you back to an address it has not registered with Latch, so you were not sent there.',
  },
  server_error: {
    heading: 'Something went wrong',
    message: 'Latch could not complete this request because of a problem on our side. Try again in a few minutes.',
  },
};
const FALLBACK = {
  heading: 'This request could not be completed',
  message: 'The application sent a request Latch cannot accept. Go back to the application and try again.',
};

/**
 * The pages oidc-provider renders itself, from Latch's views. The error page shows only the
 * error's public `error` and `error_description` (oidc-provider already reduces unexpected
 * errors to server_error), escaped by the template; never a stack.
 */
export function createProviderPages(views: Views): ProviderPages {
  return {
    async renderError(ctx, out, error) {
      const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
      const explanation = EXPLANATIONS[out.error] ?? FALLBACK;
      await views.render(ctx, 'error', { ...explanation, details: { error: out.error, description: out.error_description } }, status);
    },

    async logoutSource(ctx: KoaContextWithOIDC, form: string) {
      await views.render(ctx, 'logout', { form, clientName: nameOf(ctx.oidc.client) });
    },

    async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      await views.render(ctx, 'signed-out', { clientName: nameOf(ctx.oidc.client) });
    },
  };
}
