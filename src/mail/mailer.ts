import type { Database } from '../db/prisma.js';
import type { Outbox } from './outbox.js';
import type { MailKind, MailLocals, MailTemplates } from './templates.js';

export interface Mailer {
  /**
   * Renders a mail and adds it to the outbox in `db`, the transaction of the change that needs it:
   * the mail exists exactly when the change commits. Call `flush` once it has.
   */
  queue<Kind extends MailKind>(db: Database, kind: Kind, to: string, locals: MailLocals[Kind]): Promise<void>;
  /** Tells the worker there is mail to deliver now, rather than at its next poll. */
  flush(): void;
}

export function createMailer({ templates, outbox, wake }: { templates: MailTemplates; outbox: Outbox; wake: () => void }): Mailer {
  return {
    async queue(db, kind, to, locals) {
      await outbox.add(db, { kind, to, ...(await templates.render(kind, locals)) });
    },
    flush: wake,
  };
}
