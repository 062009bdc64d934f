import { AppError } from '../errors.js';

/** A mailed link that is unknown, already used, expired, or no longer matches its account. */
export class InvalidLinkError extends AppError {
  readonly kind = 'invalid_input';

  constructor() {
    super('This link is not valid: it has expired, was already used, or was replaced by a newer one.');
  }
}
