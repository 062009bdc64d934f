import { z } from 'zod';
import type { UserImport } from '../../account/transfer/user-import.js';
import { UnsupportedMediaTypeError } from '../../errors.js';
import { adminOf } from '../bearer-auth.js';
import type { ApiRoutes } from '../operation.js';

/** JSON lines under the names clients send them by. */
export const JSON_LINES_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-lines'] as const;
/**
 * One request imports at most this many lines (the CLI has no bound). Memory is bounded anyway (the
 * body is streamed, a line is at most 64 KiB); this bounds how long one request runs. A bigger file
 * is sent in parts, or imported with the CLI.
 */
export const MAX_IMPORT_LINES = 100_000;

const summarySchema = z
  .object({
    imported: z.int().describe('Users written.'),
    skipped: z.int().describe('Lines not imported, each for a reason.'),
    errors: z.array(z.object({ line: z.int(), reason: z.string() })).describe('The skipped lines by number (the first 1,000), each with why.'),
  })
  .meta({ id: 'UserImportSummary' });

/** POST /admin/users:import: the users of a JSON lines body, streamed into the import service the CLI runs. */
export function mountUserImportRoutes(routes: ApiRoutes, userImport: UserImport): void {
  routes.add(
    {
      id: 'importUsers',
      method: 'post',
      // `:` is @koa/router's parameter marker; escaped, it is the literal of Google's custom-method style.
      path: '/users\\:import',
      summary: 'Import users from JSON lines',
      description:
        `One user per line, as \`users export\` writes them (see the README, *Importing and exporting users*), at most ${MAX_IMPORT_LINES.toLocaleString('en')} lines per request. ` +
        'Each line is imported whole or skipped with its number and reason; existing users are never changed. 200 even when lines were skipped: the summary says which.',
      stream: { mediaTypes: JSON_LINES_TYPES, description: 'JSON lines: one user object per line.' },
      replies: { 200: { description: 'What was imported and what was skipped, and why.', body: summarySchema } },
      problems: ['internal', 'unavailable'],
    },
    async (ctx) => {
      if (!ctx.is(...JSON_LINES_TYPES)) throw new UnsupportedMediaTypeError(`Send the users as JSON lines: ${JSON_LINES_TYPES.join(', ')}.`);
      const summary = await userImport.importUsers(ctx.req, { actor: adminOf(ctx).actor, maxLines: MAX_IMPORT_LINES });
      return { status: 200, body: summary };
    },
  );
}
