import { z } from 'zod';
import type { FieldIssue } from '../errors.js';

/**
 * Trimmed because pasted addresses carry stray whitespace; NFC because the same address typed on
 * different systems can arrive composed or decomposed. Case is left as typed: the citext column
 * compares case-insensitively, and users see their address the way they entered it.
 */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC');
}

// Deliberately permissive (internationalised addresses are valid): the real proof of an address is verifying it.
const emailSchema = z.email({ pattern: z.regexes.unicodeEmail }).max(254);

/** Issues for field `email`, expecting an address already passed through normalizeEmail. */
export function checkEmail(email: string): FieldIssue[] {
  if (email === '') return [{ field: 'email', message: 'Enter your email address.' }];
  return emailSchema.safeParse(email).success ? [] : [{ field: 'email', message: 'Enter a valid email address.' }];
}
