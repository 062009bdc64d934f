import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Middleware } from 'koa';
import { projectRoot } from '../config.js';
import { servePageScripts, type PageScript } from '../http/page-scripts.js';
import { CONSOLE_PATH } from './console-client.js';

/** The console's script: its address, the digest its tag carries, and the middleware serving it. */
export interface ConsoleScript extends PageScript {
  middleware: Middleware;
}

/**
 * assets/console.js, under the console's own path (so that with ADMIN_PORT it is served where the
 * console is, and nowhere else).
 */
export function createConsoleScript(): ConsoleScript {
  const { scripts, middleware } = servePageScripts(`${CONSOLE_PATH}/assets`, [{ name: 'console', body: readFileSync(resolve(projectRoot, 'assets/console.js')) }]);
  const [script] = scripts as [PageScript];
  return { ...script, middleware };
}
