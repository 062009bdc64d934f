import type { Transporter } from 'nodemailer';
import type { Logger } from '../logger.js';
import type { StoredMail } from './outbox.js';

/** Hands one message to whatever delivers it; throws when it was not accepted. */
export interface MailTransport {
  send(mail: StoredMail): Promise<void>;
  close(): void;
}

/** Seconds-scale, so that a stuck server fails a delivery (to be retried) instead of holding its outbox row for ever. */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 } as const;

/**
 * SMTP through nodemailer, from SMTP_URL: smtp:// upgrades with STARTTLS whenever the server
 * offers it (add ?requireTLS=true to insist), smtps:// is TLS from the first byte. The outbox id is
 * the Message-ID, so a message sent twice (see Outbox.deliverNext) is one message to its reader.
 */
export function createSmtpTransport({ url, from, messageIdDomain }: { url: string; from: string; messageIdDomain: string }): MailTransport {
  // nodemailer is loaded with the first message, not at start: 39 modules and 0.6 MB of source
  // that no request before the first mail needs.
  let transporter: Promise<Transporter> | undefined;
  const opened = () => (transporter ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport({ url, ...SMTP_TIMEOUTS })));
  return {
    async send(mail) {
      await (await opened()).sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, messageId: `<${mail.id}@${messageIdDomain}>` });
    },
    close: () => void transporter?.then((open) => open.close()),
  };
}

const LINK = /https?:\/\/\S+/;

/**
 * Development without an SMTP server: the message stays in the outbox, where /dev/mail shows it,
 * and its link is logged so that a developer can follow it from the terminal. The link is all that
 * is logged of it: not the recipient (logs hold no addresses), nor the rest of the message.
 */
export function createCatcherTransport(logger: Logger): MailTransport {
  return {
    async send(mail) {
      logger.info({ event: 'mail.caught', mailId: mail.id, kind: mail.kind, link: LINK.exec(mail.text)?.[0] }, 'mail caught: read it at /dev/mail');
    },
    close: () => {},
  };
}
