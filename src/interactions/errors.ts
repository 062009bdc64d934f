import { AppError } from '../errors.js';

/** A form post whose anti-forgery token is missing or does not match the browser's cookie. */
export class CsrfError extends AppError {
  readonly kind = 'forbidden';

  constructor() {
    super('The form could not be verified.');
  }
}

/** A form body too large, or not readable as a form. */
export class FormBodyError extends AppError {
  readonly kind = 'invalid_input';

  constructor(options?: ErrorOptions) {
    super('The form could not be read.', options);
  }
}
