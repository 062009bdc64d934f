import type { AccountReturnPath } from './account-sign-in.js';
import { AppError } from '../errors.js';

/** A form post to the account page from a browser that is no longer signed in. */
export class SignedOutError extends AppError {
  readonly kind = 'unauthorized';

  constructor() {
    super('Not signed in.');
  }
}

/** Back at the account page without a sign-in: cancelled, or a callback the browser did not start. */
export class SignInNotCompletedError extends AppError {
  readonly kind = 'invalid_input';

  constructor(readonly reason: 'cancelled' | 'state_mismatch') {
    super('The sign-in to the account page was not completed.');
  }
}

/** A change that needs a recent sign-in (recent-sign-in.ts), from a session signed in longer ago. */
export class StaleSignInError extends AppError {
  readonly kind = 'forbidden';

  /** `returnTo`: the page to come back to once signed in again. */
  constructor(readonly returnTo: AccountReturnPath) {
    super('This change needs a recent sign-in.');
  }
}
