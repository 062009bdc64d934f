import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };
/** pino's own fields, and the ones a person reading a terminal has no use for. */
const OMITTED = new Set(['level', 'time', 'service', 'pid', 'hostname', 'msg', 'err']);

/**
 * The CLI's log, for the person at the terminal: pino's JSON lines (already redacted) written as
 * `latch: warning: message {fields}`, with an error's stack under it (LOG_LEVEL=debug logs failures whole).
 */
export function humanLogStream(destination: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) destination.write(`${humanLine(line)}\n`);
      callback();
    },
  });
}

function humanLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const fields = Object.fromEntries(Object.entries(entry).filter(([name]) => !OMITTED.has(name)));
  const err = entry.err as { stack?: string; message?: string } | undefined;
  return [
    `latch: ${LEVELS[entry.level as number] ?? 'log'}: ${String(entry.msg ?? '')}`,
    Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '',
    err ? `\n${err.stack ?? err.message ?? ''}` : '',
  ].join('');
}
