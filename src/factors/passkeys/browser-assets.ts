import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import type { Middleware } from 'koa';
import { projectRoot } from '../../config.js';

export const ASSETS_PATH = '/assets';

/** A script a page loads: its address and its Subresource Integrity digest. */
export interface PageScript {
  src: string;
  integrity: string;
}

export interface PasskeyAssets {
  /** In load order: @simplewebauthn/browser, then Latch's ceremonies, which use it. */
  scripts: PageScript[];
  /** Serves them under ASSETS_PATH. */
  middleware: Middleware;
}

const ONE_YEAR = 31_536_000;

/**
 * The browser half of WebAuthn, served by Latch itself (pages allow no other origin's script):
 * @simplewebauthn/browser's UMD bundle from node_modules, and assets/passkeys.js. Each address
 * carries a digest of its content, so a browser may keep it for a year and an upgrade is a new
 * address; each script tag carries the same digest as its integrity.
 */
export function createPasskeyAssets(): PasskeyAssets {
  // The package exports no bundle path, so it is found next to the entry point `require` resolves.
  const browserPackage = resolve(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..');
  const files = [
    { name: 'simplewebauthn-browser', body: readFileSync(resolve(browserPackage, 'dist/bundle/index.umd.min.js')) },
    { name: 'passkeys', body: readFileSync(resolve(projectRoot, 'assets/passkeys.js')) },
  ].map(({ name, body }) => {
    const digest = createHash('sha384').update(body).digest();
    return { path: `${ASSETS_PATH}/${name}.${digest.toString('hex').slice(0, 16)}.js`, integrity: `sha384-${digest.toString('base64')}`, body };
  });
  const byPath = new Map(files.map((file) => [file.path, file]));

  return {
    scripts: files.map(({ path, integrity }) => ({ src: path, integrity })),
    middleware: (ctx, next) => {
      const file = byPath.get(ctx.path);
      if (!file || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
      ctx.set('Cache-Control', `public, max-age=${ONE_YEAR}, immutable`);
      ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
      ctx.type = 'application/javascript; charset=utf-8';
      ctx.body = file.body;
      return undefined;
    },
  };
}
