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
