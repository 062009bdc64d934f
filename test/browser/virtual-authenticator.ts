import type { BrowserContext, Page } from 'playwright-core';

/** What the DevTools protocol says of a credential the virtual authenticator holds. */
export interface VirtualCredential {
  credentialId: string;
  isResidentCredential: boolean;
  signCount: number;
}

export interface VirtualAuthenticator {
  /** Whether it answers requests by itself, as a user touching it would (on when added). */
  simulatePresence(enabled: boolean): Promise<void>;
  credentials(): Promise<VirtualCredential[]>;
}

/**
 * A platform authenticator for one tab, through Chromium's DevTools protocol (WebAuthn domain):
 * CTAP2 over the internal transport, with discoverable credentials and user verification that
 * succeeds, as a laptop's fingerprint reader would. The browser's own prompts are not shown.
 */
export async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<VirtualAuthenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return {
    simulatePresence: async (enabled) => {
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
    },
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}
