/**
 * PostgreSQL's text and jsonb cannot hold a NUL character, nor a UTF-16 surrogate that is not half
 * of a pair (JSON's "\ud800" parses to one); sent to it, either fails the statement. Inputs are
 * checked against this before they reach a query, so they are refused as invalid instead.
 */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function isStorableText(value: string): boolean {
  return !UNSTORABLE.test(value);
}

/** The text with each unpaired surrogate replaced by U+FFFD, as encodeURIComponent and TextEncoder need it. */
export function wellFormed(value: string): string {
  return value.replace(LONE_SURROGATES, '\ufffd');
}

interface Visit {
  value: unknown;
  key?: string | number;
  parent?: Visit;
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.unshift(at.key);
  return path;
}

/**
 * The path (keys and indexes) to the first string or key of a parsed value that is not storable,
 * or undefined. Iterative, so a deeply nested body cannot exhaust the stack.
 */
export function unstorablePath(root: unknown): (string | number)[] | undefined {
  const pending: Visit[] = [{ value: root }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    const { value } = visit;
    if (typeof value === 'string') {
      if (!isStorableText(value)) return pathOf(visit);
    } else if (Array.isArray(value)) {
      value.forEach((item: unknown, index) => pending.push({ value: item, key: index, parent: visit }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        const child = { value: item, key, parent: visit };
        if (!isStorableText(key)) return pathOf(child);
        pending.push(child);
      }
    }
  }
  return undefined;
}
