/**
 * Data-modifying statements written as WITH items (`name AS (DELETE ...)`, comma-separated), their
 * parameters numbered from $1: a statement of another module can run them with itself, in the same
 * round trip and atomically with it, numbering its own parameters after these.
 */
export interface CompanionStatement {
  items: string;
  values: unknown[];
}

/**
 * A companion whose answer the statement that runs it reads back: `select` is a scalar expression
 * over its items (a subquery), selected as one column of that statement's row whether or not the
 * rest of the row finds anything, and `read` turns that column's value into the answer.
 */
export interface CompanionQuery<T> extends CompanionStatement {
  select: string;
  read(value: unknown): T;
}

/**
 * What another module reads about a row the host statement finds, as a scalar subquery correlated
 * to that row's id (an SQL expression the host passes in): no parameters of its own, so it fits in
 * any statement at any place.
 */
export interface CorrelatedColumn<T> {
  select(id: string): string;
  read(value: unknown): T;
}
