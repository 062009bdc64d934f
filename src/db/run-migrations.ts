import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { Level } from 'pino';
import type { Logger } from '../logger.js';

/**
 * Applies the migrations in a short-lived child process (migrate-worker.ts): the schema engine
 * leaves a timer that would keep the service, or jest, alive for ~10 s after it is done, and its
 * WebAssembly memory is only given back when the process ends.
 *
 * The worker reads a request as JSON on stdin (keeping the database URL out of argv, which other
 * users can read), logs pino lines on stderr, which are replayed here through the caller's logger,
 * and writes its result as JSON on stdout.
 */

export const migrationWorkerRequest = z.object({ databaseUrl: z.string(), logLevel: z.string() });
export type MigrationWorkerRequest = z.infer<typeof migrationWorkerRequest>;

export const migrationWorkerResult = z.union([z.object({ applied: z.array(z.string()) }), z.object({ error: z.string() })]);
export type MigrationWorkerResult = z.infer<typeof migrationWorkerResult>;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

// Beside this module: src/db/migrate-worker.ts under tsx or jest, dist/db/migrate-worker.js once compiled.
const workerFile = fileURLToPath(new URL(`./migrate-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** How many of the worker's stderr lines that are not log records (a crash, a Node warning) are kept to explain a failure. */
const STRAY_OUTPUT_LINES = 20;

/** Resolves with the names of the migrations applied (empty when the database was up to date). */
export async function runMigrationsInChildProcess(databaseUrl: string, logger: Logger): Promise<string[]> {
  // The schema engine imports its .wasm as an ES module: unflagged from Node 24, flagged before.
  const child = spawn(process.execPath, [...workerExecArgv(), '--experimental-wasm-modules', '--disable-warning=ExperimentalWarning', workerFile], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A worker that dies before reading its request breaks this pipe; its exit status tells why.
  child.stdin.on('error', () => {});
  child.stdin.end(JSON.stringify({ databaseUrl, logLevel: logger.level } satisfies MigrationWorkerRequest));

  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const strayOutput: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (!replayLogRecord(line, logger)) strayOutput.push(line);
    if (strayOutput.length > STRAY_OUTPUT_LINES) strayOutput.shift();
  });

  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const result = parseResult(stdout);
  if (exitCode === 0 && result && 'applied' in result) {
    if (strayOutput.length > 0) logger.warn({ output: strayOutput.join('\n') }, 'unexpected output from the migration worker');
    return result.applied;
  }
  if (result && 'error' in result) throw new MigrationError(result.error);
  throw new MigrationError(`The migration worker exited with code ${exitCode}${strayOutput.length > 0 ? `:\n${strayOutput.join('\n')}` : ''}`);
}

/**
 * Under tsx the worker inherits its TypeScript loader through execArgv. Where TypeScript is
 * transpiled in-process instead (jest's global setup and test files), the loader is added.
 */
function workerExecArgv(): string[] {
  if (extname(workerFile) !== '.ts' || process.execArgv.some((arg) => arg.includes('tsx'))) return process.execArgv;
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [...process.execArgv, '--import', tsxLoader];
}

const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] satisfies Level[];

function isLevel(label: string | undefined): label is Level {
  return label !== undefined && LOG_LEVELS.includes(label);
}

/** Logs a pino record written by the worker as if it had been logged here; false when the line is not one. */
function replayLogRecord(line: string, logger: Logger): boolean {
  let record: Record<string, unknown>;
  try {
    record = z.record(z.string(), z.unknown()).parse(JSON.parse(line));
  } catch {
    return false;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _hostname, service: _service, ...fields } = record;
  const label = typeof level === 'number' ? logger.levels.labels[level] : undefined;
  if (!isLevel(label)) return false;
  logger[label](fields, typeof msg === 'string' ? msg : 'migration worker');
  return true;
}

function parseResult(stdout: string): MigrationWorkerResult | undefined {
  try {
    return migrationWorkerResult.parse(JSON.parse(stdout));
  } catch {
    return undefined;
  }
}
