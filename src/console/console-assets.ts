import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Middleware } from 'koa';
import { projectRoot } from '../config.js';
import { CONSOLE_PATH } from './console-client.js';

/** The console's script: its address, the digest its tag carries, and the middleware serving it. */
export interface ConsoleScript {
  src: string;
  integrity: string;
  middleware: Middleware;
}

const ONE_YEAR = 31_536_000;

/**
 * assets/console.js, under the console's own path (so that with ADMIN_PORT it is served where the
 * console is, and nowhere else). Its address carries a digest of its content, so a browser may keep
 * it for a year and a new version is a new address; the tag's integrity is the same digest.
 */
export function createConsoleScript(): ConsoleScript {
  const body = readFileSync(resolve(projectRoot, 'assets/console.js'));
  const digest = createHash('sha384').update(body).digest();
  const src = `${CONSOLE_PATH}/assets/console.${digest.toString('hex').slice(0, 16)}.js`;
  return {
    src,
    integrity: `sha384-${digest.toString('base64')}`,
    middleware: (ctx, next) => {
      if (ctx.path !== src || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
      ctx.set('Cache-Control', `public, max-age=${ONE_YEAR}, immutable`);
      ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.body = body;
      return undefined;
    },
  };
}
