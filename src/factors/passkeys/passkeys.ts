import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type * as SimpleWebAuthn from '@simplewebauthn/server';
import { z } from 'zod';
import type { AccountService } from '../../account/account-service.js';
import type { User } from '../../account/user.js';
import type { AuditLog } from '../../audit/audit-log.js';
import { TooManyRequestsError, ValidationError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { SignInThrottle } from '../../throttle/sign-in-throttle.js';
import { PasskeyRefusedError, type PasskeyRefusal } from './errors.js';
import type { Passkey, PasskeyStore } from './passkey-store.js';

/** How long a started ceremony may take: the browser's prompt times out, then its challenge. */
const CEREMONY_SECONDS = 300;
export const MAX_PASSKEY_NAME_LENGTH = 64;
const DEFAULT_NAME = 'Passkey';

// Loaded at the first ceremony, not at start: @simplewebauthn/server with its ASN.1, X.509 and
// CBOR libraries is some 330 modules, a quarter of what a start loaded (bench/README.md, Cold start).
const webauthn = (): Promise<typeof SimpleWebAuthn> => import('@simplewebauthn/server');

/** A ceremony is bound to where it started: a sign-in interaction, or an account page's session. */
export type Ceremony = { purpose: 'sign_in'; interactionUid: string } | { purpose: 'register'; sessionUid: string };

/** RFC 8176 values for a passkey: a key bound to one authenticator (hwk) or synced (swk), and `user` once the authenticator verified the person. */
export type PasskeyAmr = ('hwk' | 'swk' | 'user')[];

export interface PasskeySignIn {
  user: User;
  passkey: Passkey;
  amr: PasskeyAmr;
}

export interface Passkeys {
  /** Options for navigator.credentials.create(): a discoverable credential, user verification required, none of the user's own again. */
  registrationOptions(user: User, ceremony: Ceremony & { purpose: 'register' }): Promise<PublicKeyCredentialCreationOptionsJSON>;
  /** Verifies the authenticator's response (JSON text) to those options and keeps the credential. Audited. */
  register(user: User, ceremony: Ceremony & { purpose: 'register' }, response: string, name: string): Promise<Passkey>;
  list(userId: string): Promise<Passkey[]>;
  /** Audited; PasskeyNotFoundError unless the user has it; ValidationError (field `name`). */
  rename(userId: string, id: string, name: string): Promise<void>;
  /** Audited; PasskeyNotFoundError unless the user has it. */
  remove(userId: string, id: string): Promise<void>;
  /**
   * Options for navigator.credentials.get(). Without a user: any discoverable credential of this
   * RP (passwordless, conditional UI). With one (a second factor after the password): theirs only.
   */
  signInOptions(ceremony: Ceremony & { purpose: 'sign_in' }, forUser?: User): Promise<PublicKeyCredentialRequestOptionsJSON>;
  /**
   * Verifies an assertion against the ceremony's challenge, which it uses up whatever the outcome.
   * Counted on the sign-in throttle like a password (TooManyRequestsError). PasskeyRefusedError
   * when it does not sign in; `forUser` refuses another account's credential.
   */
  signIn(ceremony: Ceremony & { purpose: 'sign_in' }, response: string, origin: { ip: string }, forUser?: User): Promise<PasskeySignIn>;
}

export interface PasskeysDependencies {
  store: PasskeyStore;
  accounts: Pick<AccountService, 'findActive'>;
  signInThrottle: SignInThrottle;
  audit: AuditLog;
  logger: Logger;
  /** The relying party is Latch as its users' browsers see it: RP ID its host, origin its origin. */
  issuer: string;
  productName: string;
  now?: () => Date;
}

const base64url = z.string().max(4096).regex(/^[A-Za-z0-9_-]*$/);
const credentialBase = { id: base64url.min(1).max(1400), rawId: base64url, type: z.literal('public-key'), clientExtensionResults: z.record(z.string(), z.unknown()).default({}), authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional() };
const assertionSchema = z.object({
  ...credentialBase,
  response: z.object({ clientDataJSON: base64url, authenticatorData: base64url, signature: base64url, userHandle: base64url.optional() }),
});
const attestationSchema = z.object({
  ...credentialBase,
  response: z.object({ clientDataJSON: base64url, attestationObject: base64url.max(16384), transports: z.array(z.string().max(32)).max(8).optional() }),
});

export function createPasskeys({ store, accounts, signInThrottle, audit, logger, issuer, productName, now = () => new Date() }: PasskeysDependencies): Passkeys {
  const { hostname: rpID, origin } = new URL(issuer);
  const bindingOf = (ceremony: Ceremony) => (ceremony.purpose === 'sign_in' ? `sign_in:${ceremony.interactionUid}` : `register:${ceremony.sessionUid}`);
  const expiry = () => new Date(now().getTime() + CEREMONY_SECONDS * 1000);

  /** The ceremony's challenge, used up now: a replayed response finds none. */
  const takeChallenge = async (ceremony: Ceremony, userId?: string) => {
    const stored = await store.takeChallenge(bindingOf(ceremony));
    // A challenge is for one purpose: a second factor's (for its user) never signs in without a password, nor the reverse.
    if (!stored || stored.expiresAt <= now() || stored.userId !== (userId ?? null)) throw new PasskeyRefusedError('no_challenge', { userId });
    return stored.challenge;
  };

  const parse = <T>(schema: z.ZodType<T>, text: string): T => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PasskeyRefusedError('unreadable_response');
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new PasskeyRefusedError('unreadable_response');
    return parsed.data;
  };

  /** The library's verdict; its exceptions (wrong origin, challenge, signature, ...) are refusals, logged by their message. */
  const verified = async <T>(verify: () => Promise<T>, userId: string | undefined): Promise<T> => {
    try {
      return await verify();
    } catch (error) {
      logger.info({ event: 'passkey.not_verified', userId, reason: error instanceof Error ? error.message : String(error) }, 'passkey response not verified');
      throw new PasskeyRefusedError('not_verified', { userId, cause: error });
    }
  };

  const nameOf = (name: string) => {
    const trimmed = name.trim();
    if (trimmed.length > MAX_PASSKEY_NAME_LENGTH) throw new ValidationError([{ field: 'name', message: `A passkey's name is at most ${MAX_PASSKEY_NAME_LENGTH} characters.` }]);
    return trimmed;
  };

  return {
    async registrationOptions(user, ceremony) {
      const existing = await store.listByUser(user.id);
      const options = await (await webauthn()).generateRegistrationOptions({
        rpName: productName,
        rpID,
        userName: user.email,
        userDisplayName: user.profile.name ?? user.email,
        // The user handle authenticators keep and return at sign-in: the account id, which is no personal data.
        userID: new TextEncoder().encode(user.id),
        timeout: CEREMONY_SECONDS * 1000,
        attestationType: 'none',
        excludeCredentials: existing.map(({ credentialId, transports }) => ({ id: credentialId, transports: transports as AuthenticatorTransport[] })),
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'required' },
      });
      await store.putChallenge(bindingOf(ceremony), { challenge: options.challenge, userId: user.id, expiresAt: expiry() }, now());
      return options;
    },

    async register(user, ceremony, response, name) {
      const chosenName = nameOf(name);
      const expectedChallenge = await takeChallenge(ceremony, user.id);
      const credential = parse(attestationSchema, response) as RegistrationResponseJSON;
      const { verifyRegistrationResponse } = await webauthn();
      const { verified: ok, registrationInfo } = await verified(
        () => verifyRegistrationResponse({ response: credential, expectedChallenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: true }),
        user.id,
      );
      if (!ok) throw new PasskeyRefusedError('not_verified', { userId: user.id });
      const count = (await store.listByUser(user.id)).length;
      const passkey = await store.create({
        credentialId: registrationInfo.credential.id,
        userId: user.id,
        publicKey: new Uint8Array(registrationInfo.credential.publicKey),
        counter: registrationInfo.credential.counter,
        transports: registrationInfo.credential.transports ?? [],
        deviceType: registrationInfo.credentialDeviceType,
        backedUp: registrationInfo.credentialBackedUp,
        name: chosenName || (count === 0 ? DEFAULT_NAME : `${DEFAULT_NAME} ${count + 1}`),
      });
      await audit.record('account.passkey_added', { userId: user.id, passkeyId: passkey.id, deviceType: passkey.deviceType });
      return passkey;
    },

    list: (userId) => store.listByUser(userId),

    async rename(userId, id, name) {
      const chosenName = nameOf(name);
      if (chosenName === '') throw new ValidationError([{ field: 'name', message: 'Give the passkey a name.' }]);
      await store.rename(userId, id, chosenName);
      await audit.record('account.passkey_renamed', { userId, passkeyId: id });
    },

    async remove(userId, id) {
      await store.remove(userId, id);
      await audit.record('account.passkey_removed', { userId, passkeyId: id });
    },

    async signInOptions(ceremony, forUser) {
      const allowed = forUser ? await store.listByUser(forUser.id) : [];
      const options = await (await webauthn()).generateAuthenticationOptions({
        rpID,
        timeout: CEREMONY_SECONDS * 1000,
        userVerification: 'required',
        allowCredentials: allowed.map(({ credentialId, transports }) => ({ id: credentialId, transports: transports as AuthenticatorTransport[] })),
      });
      await store.putChallenge(bindingOf(ceremony), { challenge: options.challenge, userId: forUser?.id ?? null, expiresAt: expiry() }, now());
      return options;
    },

    async signIn(ceremony, response, { ip }, forUser) {
      const expectedChallenge = await takeChallenge(ceremony, forUser?.id);
      const assertion = parse(assertionSchema, response) as AuthenticationResponseJSON;
      const passkey = await store.findByCredentialId(assertion.id);
      const owner = passkey ? await accounts.findActive(passkey.userId) : null;

      // Counted before anything is checked, as a password is: on the owner's counter when the credential has one.
      const gate = await signInThrottle.attempt(owner?.email ?? `passkey:${assertion.id}`, ip);
      if (!gate.allowed) throw new TooManyRequestsError('Too many sign-in attempts.', gate.retryAfterSeconds);

      const refuse = (reason: PasskeyRefusal): never => {
        throw new PasskeyRefusedError(reason, { userId: passkey?.userId });
      };
      if (!passkey) return refuse('unknown_credential');
      if (!owner) return refuse('inactive_account');
      if (forUser && owner.id !== forUser.id) return refuse('unknown_credential');

      const { verifyAuthenticationResponse } = await webauthn();
      const { verified: ok, authenticationInfo } = await verified(
        () =>
          verifyAuthenticationResponse({
            response: assertion,
            expectedChallenge,
            expectedOrigin: origin,
            expectedRPID: rpID,
            credential: { id: passkey.credentialId, publicKey: passkey.publicKey, counter: passkey.counter, transports: passkey.transports as AuthenticatorTransport[] },
            requireUserVerification: true,
          }),
        owner.id,
      );
      if (!ok) return refuse('not_verified');
      await gate.succeeded();
      await store.recordUse(passkey.id, { counter: authenticationInfo.newCounter, backedUp: authenticationInfo.credentialBackedUp, at: now() });

      const amr: PasskeyAmr = [authenticationInfo.credentialDeviceType === 'multiDevice' ? 'swk' : 'hwk'];
      if (authenticationInfo.userVerified) amr.push('user');
      return { user: owner, passkey, amr };
    },
  };
}
