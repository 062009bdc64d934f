import { ValidationError } from '../errors.js';

/**
 * A keyset position, handed to clients as an opaque string: the sort key of the last row of a page.
 * Opaque so that clients pass it back rather than build one; validated on the way in, since it is
 * client input like any other.
 */
export interface Position {
  at: Date;
  id: string;
}

export function encodeCursor({ at, id }: Position): string {
  return Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');
}

/** ValidationError (field `cursor`) for anything encodeCursor did not make; `isId` checks the id part. */
export function decodeCursor(cursor: string, isId: (id: string) => boolean): Position {
  const invalid = () => new ValidationError([{ field: 'cursor', message: 'is not a cursor this API returned' }], 'The cursor is not valid.');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid();
  const [at, id] = decoded as unknown[];
  if (typeof at !== 'string' || typeof id !== 'string' || !isId(id)) throw invalid();
  const date = new Date(at);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== at) throw invalid();
  return { at: date, id };
}

/** A page of a keyset listing: the rows, and the cursor of the next page when there is one. */
export interface Page<Item> {
  items: Item[];
  nextCursor?: string;
}

/** Pages are read one row longer than asked: that row's existence is what says a next page exists. */
export function pageOf<Item>(rows: Item[], limit: number, positionOf: (item: Item) => Position): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(positionOf(last)) } : { items };
}
