/** Latch itself, as src/main.ts composes it, in a process of its own; seeded by the parent over IPC. */
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createLatch } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createClientAdmin } from '../../src/provider/client-admin.js';
import { serveParent } from '../child.js';
import { startProfile, stopProfile } from '../profile.js';

const environment = process.env as Record<string, string>;
const config = loadConfig(environment);
// As in production: JSON lines on stdout (the parent sends them to /dev/null).
const logger = createLogger(config.logLevel);
const latch = await createLatch(config, { databaseUrl: environment.DATABASE_URL ?? '', logger });

serveParent(
  async () => {
    const server = createServer(latch.app.callback()).listen(config.http.port, '127.0.0.1');
    await once(server, 'listening');
    return {
      port: (server.address() as AddressInfo).port,
      async stop() {
        server.closeAllConnections();
        server.close();
        await latch.close();
      },
    };
  },
  {
    async seed({ redirectUri }: { redirectUri: string }) {
      const admin = createClientAdmin({
        store: latch.oidcStore,
        validate: (metadata) => latch.provider.current().Client.validate(metadata),
        now: () => new Date(),
        audit: latch.audit,
        assignments: latch.authorization.assignments,
      });
      const machine = await admin.create({ name: 'bench machine', grants: ['client_credentials'], redirectUris: [], postLogoutRedirectUris: [], public: false, firstParty: false });
      const app = await admin.create({ name: 'bench app', grants: ['authorization_code'], redirectUris: [redirectUri], postLogoutRedirectUris: [], public: false, firstParty: true });
      return {
        machine: { id: machine.client.clientId, secret: machine.clientSecret },
        app: { id: app.client.clientId, secret: app.clientSecret },
      };
    },
    /** The private keys, so the bare provider signs with the very same ones. */
    jwks: () => latch.provider.keyRing().jwks,
    purge: () => latch.oidcStore.purgeExpired(new Date()),
    profileStart: () => startProfile(),
    profileStop: ({ directory, name }: { directory: string; name: string }) => stopProfile(directory, name),
  },
);
