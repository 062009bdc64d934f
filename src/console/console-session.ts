import { hkdfSync } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { Context } from 'koa';
import { CONSOLE_PATH } from './console-client.js';

/** What the console holds for a signed-in administrator: its tokens for Latch's API, never shown to the browser. */
export interface ConsoleTokens {
  accessToken: string;
  refreshToken?: string;
  /** When the administrator last signed in (the ID token's auth_time), for actions that need a recent sign-in. */
  authTime: number;
}

/** A sign-in under way: what the callback must find again. */
export interface PendingSignIn {
  state: string;
  codeVerifier: string;
  /** Where to go once signed in: a console path. */
  returnTo: string;
}

export interface SealedCookie<Value> {
  read(ctx: Context): Promise<Value | undefined>;
  write(ctx: Context, value: Value): Promise<void>;
  clear(ctx: Context): void;
}

/**
 * The console's state lives in the browser, sealed: a JWE (dir, A256GCM) under a key derived from
 * LATCH_KEY_ENCRYPTION_KEY, so the browser can neither read the tokens nor alter them, and every
 * Latch process opens what any other sealed. Nothing to store or clean up; a stolen cookie is worth
 * what its tokens are, which the guard checks on every request (revoked, disabled, role removed).
 * The JWE's own expiry bounds it; `Path=/admin`, HttpOnly and SameSite=Lax keep it to the console.
 */
export function sealedCookie<Value extends object>({ name, keyEncryptionKey, ttlSeconds, now }: { name: string; keyEncryptionKey: Buffer; ttlSeconds: number; now: () => Date }): SealedCookie<Value> {
  const key = new Uint8Array(hkdfSync('sha256', keyEncryptionKey, Buffer.alloc(0), `latch console ${name}`, 32));
  const options = (ctx: Context) => ({ httpOnly: true, sameSite: 'lax', secure: ctx.secure, path: CONSOLE_PATH, overwrite: true }) as const;

  return {
    async read(ctx) {
      const sealed = ctx.cookies.get(name);
      if (!sealed) return undefined;
      try {
        const { payload } = await jwtDecrypt(sealed, key, { currentDate: now(), keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
        return payload.value as Value;
      } catch {
        // Expired, sealed under another key (rotated), or tampered with: as if there were none.
        return undefined;
      }
    },

    async write(ctx, value) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const sealed = await new EncryptJWT({ value }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setIssuedAt(issuedAt).setExpirationTime(issuedAt + ttlSeconds).encrypt(key);
      ctx.cookies.set(name, sealed, { ...options(ctx), maxAge: ttlSeconds * 1000 });
    },

    clear(ctx) {
      ctx.cookies.set(name, null, options(ctx));
    },
  };
}
