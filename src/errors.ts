/**
 * Latch's typed application errors. Domain code throws these; the HTTP layer maps them to
 * responses in one place (src/http/problem.ts), so no module below it knows about status codes.
 */

export interface FieldIssue {
  /** Dotted path of the offending field ("" for the body as a whole). */
  field: string;
  message: string;
}

export type ErrorKind =
  | 'invalid_input'
  | 'unsupported_media_type'
  | 'conflict'
  | 'not_found'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'forbidden'
  | 'too_many_requests'
  | 'unavailable';

export abstract class AppError extends Error {
  abstract readonly kind: ErrorKind;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  readonly kind = 'invalid_input';

  constructor(
    readonly issues: FieldIssue[],
    message = 'The request is invalid.',
  ) {
    super(message);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  readonly kind = 'unsupported_media_type';
}

export class ConflictError extends AppError {
  readonly kind = 'conflict';
}

export class NotFoundError extends AppError {
  readonly kind = 'not_found';
}

export class UnavailableError extends AppError {
  readonly kind = 'unavailable';
}
