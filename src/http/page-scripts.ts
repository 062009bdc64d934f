import { createHash } from 'node:crypto';
import type { Middleware } from 'koa';

/** A script a page loads: its address and its Subresource Integrity digest. */
export interface PageScript {
  src: string;
  integrity: string;
}

export interface PageScripts {
  /** In the order given. */
  scripts: PageScript[];
  /** Serves them, each at its own address. */
  middleware: Middleware;
}

const ONE_YEAR = 31_536_000;

/**
 * Scripts Latch serves itself (pages allow no other origin's script), under `basePath`. Each address
 * carries a digest of its content, so a browser may keep it for a year and a new version is a new
 * address; each script tag carries the same digest as its integrity.
 */
export function servePageScripts(basePath: string, files: { name: string; body: Buffer }[]): PageScripts {
  const served = files.map(({ name, body }) => {
    const digest = createHash('sha384').update(body).digest();
    return { src: `${basePath}/${name}.${digest.toString('hex').slice(0, 16)}.js`, integrity: `sha384-${digest.toString('base64')}`, body };
  });
  const bySrc = new Map(served.map((file) => [file.src, file]));

  return {
    scripts: served.map(({ src, integrity }) => ({ src, integrity })),
    middleware: (ctx, next) => {
      const file = bySrc.get(ctx.path);
      if (!file || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
      ctx.set('Cache-Control', `public, max-age=${ONE_YEAR}, immutable`);
      ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.body = file.body;
      return undefined;
    },
  };
}
