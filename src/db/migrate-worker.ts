import { text } from 'node:stream/consumers';
import { createLogger } from '../logger.js';
import { applyMigrations, defaultMigrationsDir } from './migrations.js';
import { migrationWorkerRequest, type MigrationWorkerResult } from './run-migrations.js';

/**
 * Entry point of the child process spawned by runMigrationsInChildProcess (run-migrations.ts),
 * which describes the protocol. Exits explicitly: the schema engine leaves a timer pending.
 */

const request = migrationWorkerRequest.parse(JSON.parse(await text(process.stdin)));
const logger = createLogger(request.logLevel, process.stderr);

let result: MigrationWorkerResult;
try {
  result = { applied: await applyMigrations(request.databaseUrl, defaultMigrationsDir, logger) };
} catch (error) {
  result = { error: (error instanceof Error ? error.message : String(error)).trimEnd() };
}

// process.exit drops writes still queued on a pipe: wait until both are flushed.
await write(process.stderr, '');
await write(process.stdout, `${JSON.stringify(result)}\n`);
process.exit('applied' in result ? 0 : 1);

function write(stream: NodeJS.WriteStream, chunk: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));
}
