import { resolve } from 'node:path';
import ejs from 'ejs';

/**
 * Every kind of mail Latch sends and what its templates are rendered from. Each kind is a folder
 * of views/mail/ holding subject.ejs, text.ejs and html.ejs; every text part holds exactly one
 * link to Latch (the `link` local), so that a mail client, a filter or a test can find it.
 * Subject and text are plain text, written with `<%-` (no HTML escaping); the HTML part escapes (`<%=`).
 */
export interface MailLocals {
  email_verification: { link: string; hours: number };
  password_reset: { link: string; minutes: number };
  password_changed: { link: string };
  email_change: { link: string; hours: number; oldEmail: string };
  email_changed: { link: string; newEmail: string };
  recovery_code_used: { link: string; remaining: number };
}

export type MailKind = keyof MailLocals;

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export interface MailTemplates {
  render<Kind extends MailKind>(kind: Kind, locals: MailLocals[Kind]): Promise<RenderedMail>;
}

export function createMailTemplates({ directory, productName, issuer, cache }: { directory: string; productName: string; issuer: string; cache: boolean }): MailTemplates {
  const options = { strict: true, cache, async: false } as const;
  const part = (kind: MailKind, name: string, locals: object) => ejs.renderFile(resolve(directory, kind, `${name}.ejs`), { productName, issuer, ...locals }, options);

  return {
    async render(kind, locals) {
      const [subject, text, html] = await Promise.all([part(kind, 'subject', locals), part(kind, 'text', locals), part(kind, 'html', locals)]);
      // A header cannot hold a line break; a template's trailing newline is not meant as one.
      return { subject: subject.replace(/\s+/g, ' ').trim(), text, html };
    },
  };
}
