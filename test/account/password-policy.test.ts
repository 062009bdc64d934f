import { loadCommonPasswords } from '../../src/account/common-passwords.js';
import { createPasswordPolicy, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalizePassword } from '../../src/account/password-policy.js';

const policy = createPasswordPolicy({ commonPasswords: loadCommonPasswords() });
const email = 'alice.smith@example.com';
const check = (password: string, forEmail = email) => policy.check(password, { email: forEmail });
const messages = (password: string, forEmail = email) => check(password, forEmail).map((issue) => issue.message);

describe('password policy', () => {
  describe('length', () => {
    it('rejects 7 characters and accepts 8', () => {
      expect(messages('xk#9Lq2')).toEqual([`Use at least ${MIN_PASSWORD_LENGTH} characters.`]);
      expect(check('xk#9Lq2v')).toEqual([]);
    });

    it('accepts 64 characters and everything up to the cap', () => {
      expect(check('q7'.repeat(32))).toEqual([]);
      expect(check('q7'.repeat(MAX_PASSWORD_LENGTH / 2))).toEqual([]);
    });

    it('rejects one character over the cap', () => {
      expect(messages('q7'.repeat(MAX_PASSWORD_LENGTH / 2) + 'z')).toEqual([`Use at most ${MAX_PASSWORD_LENGTH} characters.`]);
    });

    it('counts code points, not UTF-16 units', () => {
      // Each emoji is two UTF-16 units: 7 of them are 14 units but only 7 characters.
      expect(messages('🦊'.repeat(7))).toEqual([`Use at least ${MIN_PASSWORD_LENGTH} characters.`]);
      expect(check('🦊'.repeat(8))).toEqual([]);
      expect(check('🦊'.repeat(MAX_PASSWORD_LENGTH))).toEqual([]);
      expect(messages('🦊'.repeat(MAX_PASSWORD_LENGTH + 1))).toEqual([`Use at most ${MAX_PASSWORD_LENGTH} characters.`]);
    });

    it('counts after NFKC normalisation', () => {
      // "e" + combining acute composes to one "é": 8 code points as typed, 4 once normalised.
      expect(messages('e\u0301'.repeat(4))).toEqual([`Use at least ${MIN_PASSWORD_LENGTH} characters.`]);
      // The "ﬁ" ligature is compatibility-decomposed to "fi": 4 code points as typed, 8 once normalised.
      expect(check('\ufb01'.repeat(4))).toEqual([]);
    });
  });

  it('imposes no composition rules', () => {
    expect(check('correct horse battery staple')).toEqual([]);
    expect(check('zqxwvjkmpb')).toEqual([]);
  });

  describe('common passwords', () => {
    it('rejects a common password whatever its letter case', () => {
      for (const password of ['password', 'PassWord', 'ILOVEYOU']) {
        expect(messages(password)).toEqual(['This password is one of the most commonly used. Choose one that is harder to guess.']);
      }
    });

    it('uses the top 10,000 of the list and no more', () => {
      // Ranks 10,000 and 10,001 of the zxcvbn-ts list.
      expect(check('24081990')).toHaveLength(1);
      expect(check('25021983')).toEqual([]);
    });

    it('matches a common password typed in another normal form', () => {
      // Fullwidth letters normalise (NFKC) to ASCII "password".
      expect(check('ｐａｓｓｗｏｒｄ')).toHaveLength(1);
    });
  });

  describe('email', () => {
    const emailMessage = 'Do not use your email address in your password.';

    it('rejects the email address itself, in any case', () => {
      expect(messages(email)).toEqual([emailMessage]);
      expect(messages('ALICE.Smith@Example.COM')).toEqual([emailMessage]);
    });

    it('rejects a password containing the email or its local part', () => {
      expect(messages(`my ${email} pw`)).toEqual([emailMessage]);
      expect(messages('xxALICE.SMITHyy')).toEqual([emailMessage]);
    });

    it('rejects a four-character local part but ignores a shorter one', () => {
      expect(messages('annanother-secret', 'anna@example.com')).toEqual([emailMessage]);
      expect(check('bob-is-your-uncle-42', 'bob@example.com')).toEqual([]);
      expect(messages('bob@example.com!!', 'bob@example.com')).toEqual([emailMessage]);
    });

    it('reports every problem at once', () => {
      const issues = check('password', 'password@example.com');
      expect(issues).toHaveLength(2);
      expect(issues.every((issue) => issue.field === 'password')).toBe(true);
    });
  });

  it('normalises with NFKC', () => {
    expect(normalizePassword('\ufb01')).toBe('fi');
    expect(normalizePassword('e\u0301')).toBe('\u00e9');
  });
});
