import type { CliContext } from './command.js';

/** For people: columns padded to their widest cell, "-" for nothing. */
export function printTable({ print }: Pick<CliContext, 'print'>, header: string[], rows: string[][]): void {
  const all = [header, ...rows.map((row) => row.map((cell) => (cell === '' ? '-' : cell)))];
  const width = (column: number) => Math.max(...all.map((row) => row[column]?.length ?? 0));
  for (const row of all) print(row.map((cell, column) => cell.padEnd(width(column))).join('  ').trimEnd());
}

/** For scripts (--json): the same representation as the admin API's. */
export function printJson({ print }: Pick<CliContext, 'print'>, value: unknown): void {
  print(JSON.stringify(value, null, 2));
}
