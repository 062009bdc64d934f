import { errors, type Adapter, type AdapterConstructor, type AdapterPayload } from 'oidc-provider';
import { isStorableText, unstorablePath } from '../http/storable-text.js';
import type { OidcStore } from './oidc-store.js';

const UNSTORABLE = 'must not contain a NUL character or an unpaired UTF-16 surrogate';

/**
 * Every value a request sends oidc-provider (codes, tokens, client ids, state, client metadata)
 * reaches PostgreSQL through here, so this is where text it cannot hold is refused: as
 * oidc-provider's own errors, which its endpoints answer in their own format.
 */
function storableId(id: string): string {
  if (!isStorableText(id)) throw new errors.InvalidRequest(`a parameter ${UNSTORABLE}`);
  return id;
}

function assertStorablePayload(model: string, payload: AdapterPayload): void {
  const path = unstorablePath(payload);
  if (!path) return;
  if (model === 'Client') throw new errors.InvalidClientMetadata(`${String(path[0])} ${UNSTORABLE}`);
  throw new errors.InvalidRequest(`a parameter ${UNSTORABLE}`);
}

export interface AdapterOptions {
  /** Seconds a just-rotated refresh token still answers as unused (0: off); see config.oidc.refreshTokenReuseGrace. */
  refreshTokenReuseGrace: number;
  now: () => Date;
}

/** oidc-provider's `adapter` option: one instance per model, each a thin mapping onto the store. */
export function createAdapter(store: OidcStore, { refreshTokenReuseGrace, now }: AdapterOptions): AdapterConstructor {
  return class OidcStoreAdapter implements Adapter {
    readonly #model: string;

    constructor(model: string) {
      this.#model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
      assertStorablePayload(this.#model, payload);
      // No expiresIn (clients, for one) means the row never expires.
      const expiresAt = expiresIn === undefined ? undefined : new Date(now().getTime() + expiresIn * 1000);
      await store.upsert(this.#model, storableId(id), payload, expiresAt);
    }

    async find(id: string) {
      const at = now();
      const payload = await store.find(this.#model, storableId(id), at);
      return this.#model === 'RefreshToken' ? forgiveRecentReuse(payload, at, refreshTokenReuseGrace) : payload;
    }

    findByUid(uid: string) {
      return store.findByUid(this.#model, storableId(uid), now());
    }

    findByUserCode(userCode: string) {
      return store.findByUserCode(this.#model, storableId(userCode), now());
    }

    consume(id: string) {
      return store.consume(this.#model, storableId(id), now());
    }

    destroy(id: string) {
      return store.destroy(this.#model, storableId(id));
    }

    revokeByGrantId(grantId: string) {
      return store.revokeByGrantId(this.#model, storableId(grantId));
    }
  };
}

/**
 * A refresh token consumed less than `graceSeconds` ago comes back unconsumed. Clients that refresh
 * from several tabs or workers at once (NextAuth's multi-tab race) present the same token twice; the
 * second request then rotates it again instead of tripping oidc-provider's reuse detection, which
 * revokes the whole grant and signs the user out. Past the grace, reuse is reuse. The window runs
 * from the first consumption (the store keeps it), in whole seconds like oidc-provider's own clock.
 */
function forgiveRecentReuse(payload: AdapterPayload | undefined, now: Date, graceSeconds: number): AdapterPayload | undefined {
  // Checked on its own: with the clocks of two processes apart, the elapsed time can be negative.
  if (graceSeconds <= 0 || typeof payload?.consumed !== 'number') return payload;
  if (Math.floor(now.getTime() / 1000) - payload.consumed >= graceSeconds) return payload;
  const { consumed: _consumed, ...unconsumed } = payload;
  return unconsumed;
}
