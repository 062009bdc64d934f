import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

/**
 * Headers for every HTML page Latch renders. Pages hold personal data and one-time form tokens,
 * so no cache may keep them; they embed nothing, so the policy allows only the inline stylesheet
 * carrying this response's nonce and, on the pages that run script (`scripts`), Latch's own script
 * tags carrying it too, which may call back to Latch alone. `form-action` is deliberately absent: Chrome
 * applies it to the redirects that follow a form post, which would block the way back to the client.
 * Returns the nonce for the page's <style> element.
 */
export function securePage(ctx: Pick<Context, 'set'>, { scripts = false }: { scripts?: boolean } = {}): string {
  const nonce = randomBytes(16).toString('base64');
  const script = scripts ? `; script-src 'nonce-${nonce}'; connect-src 'self'` : '';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; frame-ancestors 'none'; base-uri 'none'${script}`);
  return nonce;
}
