import type { FieldIssue } from '../errors.js';

export const MIN_PASSWORD_LENGTH = 8;
/** NIST asks to accept at least 64; the cap only keeps one request from costing an unbounded hash. */
export const MAX_PASSWORD_LENGTH = 1024;
/** Shorter local parts ("bob") are too likely to occur in unrelated passwords to reject them. */
const MIN_LOCAL_PART_TO_REJECT = 4;

/**
 * NIST SP 800-63B §5.1.1.2: NFKC so that the same password entered through different keyboards
 * or input methods is the same password. Hash and verify only what this returns.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export interface PasswordPolicy {
  /** Issues for field `password`; empty when the password is acceptable for the account with this email. */
  check(password: string, context: { email: string }): FieldIssue[];
}

/** NIST SP 800-63B memorized secrets: length and blocklists only, no composition rules. */
export function createPasswordPolicy({ commonPasswords }: { commonPasswords: ReadonlySet<string> }): PasswordPolicy {
  return {
    check(password, { email }) {
      const normalized = normalizePassword(password);
      // NIST counts each Unicode code point as one character, whatever its UTF-16 length.
      const length = [...normalized].length;
      if (length < MIN_PASSWORD_LENGTH) return [issue(`Use at least ${MIN_PASSWORD_LENGTH} characters.`)];
      if (length > MAX_PASSWORD_LENGTH) return [issue(`Use at most ${MAX_PASSWORD_LENGTH} characters.`)];

      const lowered = normalized.toLowerCase();
      const issues: FieldIssue[] = [];
      if (commonPasswords.has(lowered)) {
        issues.push(issue('This password is one of the most commonly used. Choose one that is harder to guess.'));
      }
      if (emailFragments(email).some((fragment) => lowered.includes(fragment))) {
        issues.push(issue('Do not use your email address in your password.'));
      }
      return issues;
    },
  };
}

/** The whole address, and its local part when long enough to be distinctive, compared in the password's normal form. */
function emailFragments(email: string): string[] {
  const address = normalizePassword(email.trim()).toLowerCase();
  if (address === '') return [];
  const at = address.lastIndexOf('@');
  const localPart = at === -1 ? address : address.slice(0, at);
  return [...localPart].length >= MIN_LOCAL_PART_TO_REJECT ? [address, localPart] : [address];
}

function issue(message: string): FieldIssue {
  return { field: 'password', message };
}
