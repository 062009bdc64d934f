import { AppError, ConflictError, NotFoundError } from '../../errors.js';

export class PasskeyNotFoundError extends NotFoundError {
  constructor(options?: ErrorOptions) {
    super('No such passkey.', options);
  }
}

export class PasskeyAlreadyRegisteredError extends ConflictError {
  constructor(options?: ErrorOptions) {
    super('This passkey is registered already.', options);
  }
}

/**
 * Why a WebAuthn ceremony was refused; logged and audited, never shown as such (the page says only
 * that the passkey did not work, as the sign-in page does for a wrong password).
 */
export type PasskeyRefusal =
  /** No ceremony was started for this interaction or session, it was used already, or it expired. */
  | 'no_challenge'
  /** Not a WebAuthn response Latch can read. */
  | 'unreadable_response'
  /** A credential no account has. */
  | 'unknown_credential'
  /** The credential's account is disabled or locked. */
  | 'inactive_account'
  /** The signature, challenge, origin, RP ID, counter or user verification did not check out. */
  | 'not_verified';

export class PasskeyRefusedError extends AppError {
  readonly kind = 'unauthorized';

  constructor(
    readonly reason: PasskeyRefusal,
    options?: ErrorOptions & { userId?: string },
  ) {
    super('The passkey was not accepted.', options);
    this.userId = options?.userId;
  }

  /** The account the credential belongs to, when it was known. */
  readonly userId: string | undefined;
}
