import { StringDecoder } from 'node:string_decoder';

export type Line = { number: number; text: string } | { number: number; tooLong: true };

/**
 * The lines of a UTF-8 stream, numbered from 1, each at most `maxLength` characters: a longer one
 * is reported as too long and skipped to its end, never held whole. node:readline would buffer a
 * line of any length, and one line without a newline could then take all the memory there is.
 * Blank lines (and a final newline) yield nothing but keep their number.
 */
export async function* readLines(source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, { maxLength }: { maxLength: number }): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let number = 0;
  let pending = '';
  let tooLong = false;

  function* end(rest: string): Generator<Line> {
    number += 1;
    const text = pending + rest;
    if (tooLong || text.length > maxLength) yield { number, tooLong: true };
    else if (text.trim() !== '') yield { number, text };
    pending = '';
    tooLong = false;
  }

  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      yield* end(tooLong ? '' : text.slice(start, newline));
      start = newline + 1;
    }
    if (!tooLong) pending += text.slice(start);
    if (pending.length > maxLength) {
      tooLong = true;
      pending = '';
    }
  }
  const last = decoder.end();
  if (pending !== '' || last !== '' || tooLong) yield* end(tooLong ? '' : last);
}
