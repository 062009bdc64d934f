/**
 * Data-modifying statements written as WITH items (`name AS (DELETE ...)`, comma-separated), their
 * parameters numbered from $1: a statement of another module can run them with itself, in the same
 * round trip and atomically with it, numbering its own parameters after these.
 */
export interface CompanionStatement {
  items: string;
  values: unknown[];
}
