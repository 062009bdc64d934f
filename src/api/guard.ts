import type { Context, Middleware } from 'koa';
import type { z } from 'zod';
import { UnsupportedMediaTypeError, ValidationError, type FieldIssue } from '../errors.js';
import { lazyBodyParser } from '../http/lazy-body-parser.js';

/** Big enough for any profile, small enough that nobody streams megabytes into argon2 or the log. */
export const JSON_BODY_LIMIT_BYTES = 16 * 1024;

/** koa-body's failures (raw-body's typed errors, co-body's SyntaxError), turned into the API's own typed errors. */
function bodyParsingError(error: Error & { type?: string }): never {
  if (error.type === 'entity.too.large') {
    throw new ValidationError([{ field: '', message: `the body must be at most ${JSON_BODY_LIMIT_BYTES} bytes` }], 'The request body is too large.');
  }
  if (error instanceof SyntaxError) {
    throw new ValidationError([{ field: '', message: 'the body must be a JSON object' }], 'The request body is not valid JSON.');
  }
  throw new ValidationError([{ field: '', message: 'the body could not be read' }], 'The request body could not be read.');
}

/** JSON bodies only, strictly parsed and size-limited; mounted on the REST router, never in front of the OIDC provider. */
export function jsonBody(): Middleware {
  return lazyBodyParser(({ koaBody, HttpMethodEnum }) =>
    koaBody({
      json: true,
      jsonStrict: true,
      jsonLimit: JSON_BODY_LIMIT_BYTES,
      urlencoded: false,
      text: false,
      multipart: false,
      // DELETE too: deleting an account takes the current password in its body.
      parsedMethods: [HttpMethodEnum.POST, HttpMethodEnum.PUT, HttpMethodEnum.PATCH, HttpMethodEnum.DELETE],
      onError: bodyParsingError,
    }),
  );
}

export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    // An unknown field is reported at its own path, so the client sees which one to drop.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), message: 'is not a known field' }));
    }
    return [{ field: path.join('.'), message: issue.message }];
  });
}

/** Validates the parsed JSON body against a zod schema; the one way a REST route reads its input. */
export function parseBody<Schema extends z.ZodType>(ctx: Context, schema: Schema): z.output<Schema> {
  if (!ctx.is('application/json', '+json')) {
    throw new UnsupportedMediaTypeError('Send the body as application/json.');
  }
  const parsed = schema.safeParse(ctx.request.body);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw new ValidationError(issues, issues.length === 1 ? 'One field is invalid.' : `${issues.length} fields are invalid.`);
  }
  return parsed.data;
}

/** Validates the query string against a strict zod object; a parameter given twice arrives as an array, and is refused as one. */
export function parseQuery<Schema extends z.ZodObject>(ctx: Context, schema: Schema): z.output<Schema> {
  const parsed = schema.strict().safeParse(ctx.query);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw new ValidationError(issues, issues.length === 1 ? 'One query parameter is invalid.' : `${issues.length} query parameters are invalid.`);
  }
  return parsed.data as z.output<Schema>;
}
