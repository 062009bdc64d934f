import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';
import type { AuthenticationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/**
 * A WebAuthn authenticator in the test process, for the server-side tests over HTTP: P-256 keys,
 * "none" attestation, user presence and verification as configured. It signs whatever it is told
 * (any origin, any RP ID), so tests can present what a phishing page or a replay would.
 */
export interface StoredCredential {
  id: string;
  userHandle: string;
  rpId: string;
  privateKey: KeyObject;
  counter: number;
}

const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_BE = 0x08;
const FLAG_BS = 0x10;
const FLAG_AT = 0x40;

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();
const b64url = (data: Uint8Array) => Buffer.from(data).toString('base64url');

export class SoftwareAuthenticator {
  readonly credentials: StoredCredential[] = [];

  /** `synced`: backup eligible and backed up (a multi-device passkey); `userVerified`: the UV flag. */
  constructor(private readonly options: { synced?: boolean; userVerified?: boolean } = {}) {}

  private flags(extra: number): number {
    const { synced = false, userVerified = true } = this.options;
    return FLAG_UP | (userVerified ? FLAG_UV : 0) | (synced ? FLAG_BE | FLAG_BS : 0) | extra;
  }

  /** navigator.credentials.create() as a browser at `origin` would answer it. */
  create(options: PublicKeyCredentialCreationOptionsJSON, { origin, rpId = options.rp.id ?? new URL(origin).hostname }: { origin: string; rpId?: string }): RegistrationResponseJSON {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    const credentialId = randomBytes(32);
    const coseKey = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x as string, 'base64url')],
      [-3, Buffer.from(jwk.y as string, 'base64url')],
    ]);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(credentialId.length);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(FLAG_AT)]), Buffer.alloc(4), Buffer.alloc(16), length, credentialId, Buffer.from(isoCBOR.encode(coseKey))]);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', new Uint8Array(authData)]]) as never);
    const clientDataJSON = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false });
    this.credentials.push({ id: b64url(credentialId), userHandle: options.user.id, rpId, privateKey, counter: 0 });
    return {
      id: b64url(credentialId),
      rawId: b64url(credentialId),
      type: 'public-key',
      response: { clientDataJSON: b64url(Buffer.from(clientDataJSON)), attestationObject: b64url(attestationObject), transports: ['internal'] },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }

  /** navigator.credentials.get() with this authenticator's newest credential (or `credential`). */
  get(options: PublicKeyCredentialRequestOptionsJSON, { origin, rpId = options.rpId ?? new URL(origin).hostname, credential = this.credentials.at(-1) }: { origin: string; rpId?: string; credential?: StoredCredential }): AuthenticationResponseJSON {
    if (!credential) throw new Error('the authenticator holds no credential');
    credential.counter += 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(credential.counter);
    const authData = Buffer.concat([sha256(rpId), Buffer.from([this.flags(0)]), counter]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), credential.privateKey);
    return {
      id: credential.id,
      rawId: credential.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authData), signature: b64url(signature), userHandle: credential.userHandle },
      clientExtensionResults: {},
      authenticatorAttachment: 'platform',
    };
  }
}
