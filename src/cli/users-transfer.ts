import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createAuditLog } from '../audit/audit-log.js';
import { createUserExport } from '../account/transfer/user-export.js';
import { createUserImport, type ImportProgress, type ImportSummary } from '../account/transfer/user-import.js';
import { createPrismaUserRepository } from '../account/user-repository.js';
import { parseOptions } from './arguments.js';
import { CliError, usageError, type CliContext } from './command.js';
import type { UsersSubcommand } from './users.js';

/** The CLI acts as the operator: audited as "admin". */
const ACTOR = 'admin';

export const usersImport: UsersSubcommand = {
  name: 'import',
  usage: 'users import <file.jsonl|-> [--json]         users from JSON lines (- reads stdin); bad lines are reported and skipped',
  parse(args, usage) {
    const { values, positionals } = parseOptions(args, { json: { type: 'boolean' } }, 'users import', usage);
    const [file, ...extra] = positionals;
    if (file === undefined || extra.length > 0) throw usageError('users import takes one file (or - for stdin)', usage);
    return async (context) => {
      const source = file === '-' ? process.stdin : await opened(file);
      const bar = process.stderr.isTTY ? progressBar(process.stderr) : undefined;
      const summary = await createUserImport({ pool: context.pool, audit: auditOf(context) }).importUsers(source, { actor: ACTOR, onProgress: bar?.update });
      bar?.done();
      if (values.json) context.print(JSON.stringify(summary));
      else printSummary(summary, context);
    };
  },
};

export const usersExport: UsersSubcommand = {
  name: 'export',
  usage: 'users export [<file.jsonl>] [--with-password-hashes]   every user as JSON lines, to stdout unless a file is named',
  parse(args, usage) {
    const { values, positionals } = parseOptions(args, { 'with-password-hashes': { type: 'boolean' } }, 'users export', usage);
    const [file, ...extra] = positionals;
    if (extra.length > 0) throw usageError('users export takes at most one file', usage);
    return async (context) => {
      const exporter = createUserExport({ users: createPrismaUserRepository(context.prisma), pool: context.pool, audit: auditOf(context) });
      // A file of password hashes is as sensitive as the database: readable by its owner only.
      const out = file === undefined ? process.stdout : createWriteStream(file, { mode: 0o600 });
      let count = 0;
      for await (const line of exporter.exportUsers({ withPasswordHashes: values['with-password-hashes'] === true, actor: ACTOR })) {
        count += 1;
        // Waits for a slow reader (a pipe, a disk) rather than buffering the whole export.
        if (!out.write(line)) await once(out, 'drain');
      }
      if (out !== process.stdout) {
        out.end();
        await once(out, 'finish');
      }
      process.stderr.write(`Exported ${count} users.\n`);
    };
  },
};

const auditOf = ({ prisma, logger }: CliContext) => createAuditLog({ prisma, logger });

async function opened(file: string) {
  const stream = createReadStream(file);
  try {
    await once(stream, 'open');
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`);
  }
  return stream;
}

function printSummary({ imported, skipped, errors }: ImportSummary, { print }: CliContext): void {
  print(`Imported ${imported} users; skipped ${skipped} lines.`);
  for (const { line, reason } of errors) print(`  line ${line}: ${reason}`);
  if (skipped > errors.length) print(`  ... and ${skipped - errors.length} more lines skipped.`);
}

/** One line on a terminal, redrawn after each batch: lines read, rate, imported, skipped. */
function progressBar(terminal: Writable & { columns?: number }) {
  const started = Date.now();
  let drawn = false;
  return {
    update({ lines, imported, skipped }: ImportProgress) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const text = `${lines.toLocaleString('en')} lines · ${Math.round(lines / seconds).toLocaleString('en')} lines/s · ${imported.toLocaleString('en')} imported · ${skipped.toLocaleString('en')} errors`;
      terminal.write(`\r\x1b[2K${text}`);
      drawn = true;
    },
    done() {
      if (drawn) terminal.write('\n');
    },
  };
}
