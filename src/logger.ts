import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Field names whose values must never reach a log line, wherever they appear in a logged object.
 * pino's redaction is path based, so each name is listed at the depths Latch logs objects.
 */
export const SECRET_FIELDS = [
  'password',
  'currentPassword',
  'newPassword',
  'passwordHash',
  'password_hash',
  'authorization',
  'cookie',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'client_secret',
  'secret',
];

const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

/**
 * Fields (the request id) that every line logged while handling one request carries, whichever
 * module logs it, without threading a logger through every call.
 */
const logContext = new AsyncLocalStorage<Record<string, unknown>>();

export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'latch' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // A copy: pino merges each line's own fields into the object mixin returns, which would otherwise
      // be the request's context itself, and every later line of the request would carry them.
      mixin: () => ({ ...logContext.getStore() }),
    },
    destination ?? process.stdout,
  );
}

/**
 * The same logger without the redaction pass, for lines whose every field Latch chooses and none of
 * which can hold a secret (the request line). Redaction walks each object along every path above,
 * wildcards included, and was the costliest part of logging a cheap request.
 */
export function unredacted(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: [] } });
}
