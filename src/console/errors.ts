import { AppError } from '../errors.js';

/** A console request from a browser with no console session (or one whose tokens no longer work and cannot be refreshed). */
export class ConsoleSignedOutError extends AppError {
  readonly kind = 'unauthorized';

  constructor() {
    super('Not signed in to the admin console.');
  }
}

/** Back at the console's callback without a sign-in: cancelled, no second factor, started elsewhere, or the code was refused. */
export class ConsoleSignInError extends AppError {
  readonly kind = 'invalid_input';

  constructor(readonly reason: 'cancelled' | 'second_factor_missing' | 'state_mismatch' | 'code_refused') {
    super('The sign-in to the admin console was not completed.');
  }
}

/** A destructive action asked of an administrator whose sign-in is older than the console accepts for it. */
export class StaleSignInError extends AppError {
  readonly kind = 'forbidden';

  constructor() {
    super('This action needs a recent sign-in.');
  }
}
