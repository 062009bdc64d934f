import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { projectRoot } from '../../config.js';
import { servePageScripts, type PageScripts } from '../../http/page-scripts.js';

export const ASSETS_PATH = '/assets';

/**
 * The browser half of WebAuthn, served under ASSETS_PATH, in load order: @simplewebauthn/browser's
 * UMD bundle from node_modules, then assets/passkeys.js, whose ceremonies use it.
 */
export function createPasskeyAssets(): PageScripts {
  // The package exports no bundle path, so it is found next to the entry point `require` resolves.
  const browserPackage = resolve(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..');
  return servePageScripts(ASSETS_PATH, [
    { name: 'simplewebauthn-browser', body: readFileSync(resolve(browserPackage, 'dist/bundle/index.umd.min.js')) },
    { name: 'passkeys', body: readFileSync(resolve(projectRoot, 'assets/passkeys.js')) },
  ]);
}
