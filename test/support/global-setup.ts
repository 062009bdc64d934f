import { tsImport } from 'tsx/esm/api';
import type * as TestServer from './test-server.js';

/**
 * jest loads its global setup and teardown with Node's own TypeScript support, which cannot follow
 * the `.js` specifiers of Latch's sources to their `.ts` files; tsx can.
 */
export default async function globalSetup(): Promise<void> {
  const { startTestServer } = (await tsImport('./test-server.ts', import.meta.url)) as typeof TestServer;
  await startTestServer();
}
