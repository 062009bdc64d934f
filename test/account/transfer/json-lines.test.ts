import { readLines, type Line } from '../../../src/account/transfer/json-lines.js';

async function linesOf(chunks: (Buffer | string)[], maxLength = 16): Promise<Line[]> {
  const lines: Line[] = [];
  for await (const line of readLines(chunks, { maxLength })) lines.push(line);
  return lines;
}

describe('reading JSON lines', () => {
  it('numbers lines across chunk boundaries, skipping blank ones but counting them', async () => {
    expect(await linesOf(['{"a"', ':1}\n\n  \n{"b":2}\r\n', '{"c":3}'])).toEqual([
      { number: 1, text: '{"a":1}' },
      { number: 4, text: '{"b":2}\r' },
      { number: 5, text: '{"c":3}' },
    ]);
  });

  it('decodes a character split between two chunks', async () => {
    const bytes = Buffer.from('"é"\n', 'utf8');
    expect(await linesOf([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual([{ number: 1, text: '"é"' }]);
  });

  it('reports a line over the limit without holding it, and goes on with the next', async () => {
    expect(await linesOf(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(10), '\nshort\n', 'y'.repeat(17)])).toEqual([
      { number: 1, tooLong: true },
      { number: 2, text: 'short' },
      { number: 3, tooLong: true },
    ]);
  });

  it('yields nothing for an empty stream', async () => {
    expect(await linesOf([])).toEqual([]);
    expect(await linesOf(['\n'])).toEqual([]);
  });
});
