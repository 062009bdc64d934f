import { once } from 'node:events';
import { SMTPServer } from 'smtp-server';
import { findFreePort } from './free-port.js';

/** A message as the SMTP server received it, with what a test reads of it decoded. */
export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  messageId: string;
  text: string;
  html: string;
  raw: string;
  /** The user the client authenticated as, if it did. */
  user?: string;
}

export interface TestSmtpServer {
  /** smtp://user:password@127.0.0.1:<port>, for SMTP_URL. */
  url: string;
  port: number;
  received: ReceivedMail[];
  /** Resolves with the first `count` messages (to `to`, with a subject matching `subject`, if given) once they have arrived. */
  waitFor(count: number, options?: { to?: string; subject?: RegExp; timeoutMs?: number }): Promise<ReceivedMail[]>;
  /** Closes the port, as a server that has gone down. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

export const SMTP_USER = 'latch';
export const SMTP_PASSWORD = 'smtp-test-password';

/**
 * A real SMTP server (the smtp-server package) in the test process, on a free loopback port. It
 * requires authentication (as SMTP_USER / SMTP_PASSWORD) and keeps every message it accepts.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const port = await findFreePort();
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let server: SMTPServer | undefined;

  const listen = async () => {
    server = new SMTPServer({
      // No certificate here: STARTTLS is not offered, so the client stays on plain text.
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) return callback(null, { user: auth.username });
        return callback(new Error('Invalid username or password'));
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          received.push({
            ...parse(raw),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
            raw,
            user: typeof session.user === 'string' ? session.user : undefined,
          });
          for (const wake of waiters) wake();
          callback();
        });
      },
    });
    server.listen(port, '127.0.0.1');
    await once(server.server, 'listening');
  };
  await listen();

  return {
    url: `smtp://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${port}`,
    port,
    received,
    waitFor(count, { to, subject, timeoutMs = 10_000 } = {}) {
      const matching = () => received.filter((mail) => (to === undefined || mail.to.includes(to)) && (subject === undefined || subject.test(mail.subject)));
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = matching();
          if (found.length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found.slice(0, count));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`waited ${timeoutMs} ms for ${count} mail(s)${to ? ` to ${to}` : ''}, got ${matching().length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      const closing = server;
      server = undefined;
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: listen,
  };
}

/** The first link in a mail's text part. */
export function linkIn(mail: Pick<ReceivedMail, 'text'>): URL {
  const match = /https?:\/\/\S+/.exec(mail.text);
  if (!match) throw new Error(`no link in:\n${mail.text}`);
  return new URL(match[0]);
}

/** Just enough MIME for nodemailer's messages: headers, and the text and HTML parts of a multipart/alternative. */
function parse(raw: string): Pick<ReceivedMail, 'subject' | 'messageId' | 'text' | 'html'> {
  const { headers, body } = split(raw);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  const parts = boundary ? body.split(`--${boundary}`).slice(1, -1).map(split) : [{ headers, body }];
  const partOf = (type: string) => parts.find((part) => (part.headers['content-type'] ?? '').startsWith(type));
  return {
    subject: decodeWords(headers.subject ?? ''),
    messageId: headers['message-id'] ?? '',
    text: decodePart(partOf('text/plain')),
    html: decodePart(partOf('text/html')),
  };
}

function split(entity: string): { headers: Record<string, string>; body: string } {
  const text = entity.replace(/^\r?\n/, '');
  const end = text.search(/\r?\n\r?\n/);
  const head = text.slice(0, end).replace(/\r?\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: text.slice(end).replace(/^\r?\n\r?\n/, '') };
}

function decodePart(part: { headers: Record<string, string>; body: string } | undefined): string {
  if (!part) return '';
  const encoding = (part.headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body, 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = part.body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8').replace(/\r\n/g, '\n');
  }
  return part.body.replace(/\r\n/g, '\n');
}

/** RFC 2047 encoded words, as nodemailer writes a subject that is not plain ASCII. */
function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, kind: string, data: string) =>
    kind.toLowerCase() === 'b' ? Buffer.from(data, 'base64').toString('utf8') : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (__, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'),
  );
}
