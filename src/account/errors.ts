import { ConflictError, NotFoundError } from '../errors.js';

export class EmailTakenError extends ConflictError {
  constructor(options?: ErrorOptions) {
    super('An account with this email address already exists.', options);
  }
}

export class UserNotFoundError extends NotFoundError {
  constructor(options?: ErrorOptions) {
    super('No such account.', options);
  }
}

/** Another user's grant is answered exactly as a missing one: ids reveal nothing. */
export class GrantNotFoundError extends NotFoundError {
  constructor(options?: ErrorOptions) {
    super('No such connected app.', options);
  }
}

/** Another user's session is answered exactly as a missing one. */
export class SignInSessionNotFoundError extends NotFoundError {
  constructor(options?: ErrorOptions) {
    super('No such session.', options);
  }
}
