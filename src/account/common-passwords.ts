import { dictionary } from '@zxcvbn-ts/language-common';

/**
 * The `count` most used passwords from zxcvbn-ts's frequency-ranked list, lower-cased so that the
 * policy can compare case-insensitively. NIST SP 800-63B asks for a blocklist of commonly used
 * passwords; the top 10,000 keeps it to the ones attackers try first.
 */
export function loadCommonPasswords(count = 10_000): ReadonlySet<string> {
  return new Set(dictionary['passwords-common'].slice(0, count).map((password) => password.normalize('NFKC').toLowerCase()));
}
