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

/**
 * What a refused bearer request is told in its WWW-Authenticate header (RFC 6750 §3). No error
 * code when the request carried no token at all: the client has simply not authenticated yet.
 */
export interface BearerChallenge {
  error?: 'invalid_token' | 'insufficient_scope';
  /** Shown to developers; RFC 6750 allows only printable ASCII without `"` and `\`. */
  description?: string;
  /** The scopes the request needs, space-separated (with insufficient_scope). */
  scope?: string;
}

/** The request is not authenticated, or its credentials are not (or no longer) valid. */
export class UnauthorizedError extends AppError {
  readonly kind = 'unauthorized';

  constructor(
    message: string,
    readonly challenge: BearerChallenge = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Authenticated, but not allowed to do this. */
export class ForbiddenError extends AppError {
  readonly kind = 'forbidden';
}

/** The access token is valid but was not granted a scope this request needs. */
export class InsufficientScopeError extends ForbiddenError {
  readonly challenge: BearerChallenge;

  constructor(scope: string) {
    super(`The access token was not granted the ${scope} scope, which this request needs.`);
    this.challenge = { error: 'insufficient_scope', description: `the ${scope} scope is required`, scope };
  }
}

export class ConflictError extends AppError {
  readonly kind = 'conflict';
}

export class NotFoundError extends AppError {
  readonly kind = 'not_found';
}

/** Refused for now: the caller has done this too often and may try again after `retryAfterSeconds`. */
export class TooManyRequestsError extends AppError {
  readonly kind = 'too_many_requests';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class UnavailableError extends AppError {
  readonly kind = 'unavailable';
}
