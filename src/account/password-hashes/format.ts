/**
 * One password hash format Latch can verify. Hashes reach the database only through Latch's own
 * hasher (argon2id) or an import that `problem` accepted, so a format is checked once, at the door.
 */
export interface HashFormat {
  /** How reports and audit events name the format: "bcrypt", "pbkdf2-sha256", ... */
  readonly name: string;
  /** Whether the hash is written in this format at all (by its prefix), well formed or not. */
  recognizes(hash: string): boolean;
  /** Why this hash of the format cannot be verified (malformed, parameters out of bounds), or null when it can. */
  problem(hash: string): string | null;
  /** Only called on a hash `problem` accepted. */
  verify(hash: string, password: string): Promise<boolean>;
}

/** What parsing a hash gives: its parts, or why it cannot be used. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export const parsed = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const refused = <T>(problem: string): Parsed<T> => ({ ok: false, problem });
