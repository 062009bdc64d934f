import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

/**
 * Headers for every HTML page Latch renders. Pages hold personal data and one-time form tokens,
 * so no cache may keep them; they run no script and embed nothing, so the policy allows only the
 * inline stylesheet carrying this response's nonce. `form-action` is deliberately absent: Chrome
 * applies it to the redirects that follow a form post, which would block the way back to the client.
 * Returns the nonce for the page's <style> element.
 */
export function securePage(ctx: Pick<Context, 'set'>): string {
  const nonce = randomBytes(16).toString('base64');
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'`);
  return nonce;
}
