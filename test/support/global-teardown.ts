import { tsImport } from 'tsx/esm/api';
import type * as TestServer from './test-server.js';

/** Stops what global-setup.ts started, loaded the same way (see there why). */
export default async function globalTeardown(): Promise<void> {
  const { stopTestServer } = (await tsImport('./test-server.ts', import.meta.url)) as typeof TestServer;
  await stopTestServer();
}
