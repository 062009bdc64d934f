import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util's parseArgs, strict, with a "did you mean" for an option it does not know: the
 * unknown ones are found first in its tokens (not from its error message), then the strict
 * parse reports the remaining mistakes (a missing value, a value given to a flag).
 */
export function parseOptions<O extends Options>(args: string[], options: O, form: string, usage: string[]) {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const known = Object.keys(options);
  const unknown = tokens.find((token) => token.kind === 'option' && !known.includes(token.name));
  if (unknown?.kind === 'option') {
    throw usageError(`${form}: unknown option ${unknown.rawName}.${didYouMean(unknown.name, known, '--')}`, usage);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    // node:util's messages name the offending option: "Option '--name <value>' argument missing".
    // (Read by duck typing: under jest's VM modules, node's errors come from another realm.)
    throw usageError(`${form}: ${String((error as { message?: unknown }).message ?? error)}`, usage);
  }
}

/** " Did you mean <closest>?" when one of `candidates` is a likely typo of `word`, else "". */
export function didYouMean(word: string, candidates: readonly string[], prefix = ''): string {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  // A third of the word may be wrong: "clinets", "rotat", "--publish-fo"; not "frobnicate".
  const tolerance = Math.max(1, Math.floor(word.length / 3));
  return best && best.distance <= tolerance ? ` Did you mean ${prefix}${best.candidate}?` : '';
}

/** Edits from `a` to `b`: insertions, deletions, substitutions and swaps of neighbours ("nmae"), each one (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const substitution = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) distance = Math.min(distance, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = distance;
    }
  }
  return at(a.length, b.length);
}
