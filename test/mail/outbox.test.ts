import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { projectRoot } from '../../src/config.js';
import { createMailTemplates, type MailKind, type MailLocals } from '../../src/mail/templates.js';
import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser } from '../support/sign-in.js';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.js';
import { query } from '../support/sql.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const outboxOf = (running: RunningLatch, recipient: string) =>
  query<{ status: string; attempts: number; last_error: string | null }>(running.databaseUrl, 'SELECT status, attempts, last_error FROM mail_outbox WHERE recipient = $1', [recipient]);

describe('the mail outbox', () => {
  let smtp: TestSmtpServer;
  let running: RunningLatch;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    running = await startLatch({ SMTP_URL: smtp.url });
  });

  afterAll(async () => {
    await running?.stop();
    await smtp?.stop();
  });

  it('keeps a mail asked for while the SMTP server is down, and delivers it once when it is back', async () => {
    await smtp.stop();
    const user = await createUser(running);
    const reset = await running.http().post('/api/v1/password-resets').send({ email: user.email });
    expect(reset.status).toBe(202);

    // A few failed attempts (the tests' retries are quick), and nothing lost.
    await sleep(1200);
    const waiting = await outboxOf(running, user.email);
    expect(waiting).toHaveLength(2);
    expect(waiting.every((row) => row.status === 'pending' && row.attempts >= 1 && /ECONNREFUSED/.test(row.last_error ?? ''))).toBe(true);

    await smtp.start();
    const mails = await smtp.waitFor(2, { to: user.email });
    expect(mails.map((mail) => mail.subject).sort()).toEqual(['Reset your Latch password', 'Verify your email address for Latch']);
    expect(mails.every((mail) => mail.user === 'latch')).toBe(true);
    await sleep(1200);
    expect(smtp.received.filter((mail) => mail.to.includes(user.email))).toHaveLength(2);
    expect((await outboxOf(running, user.email)).map((row) => row.status)).toEqual(['sent', 'sent']);
    // Their links are mailed: the database keeps no copy of them.
    expect(await query(running.databaseUrl, "SELECT 1 FROM mail_outbox WHERE recipient = $1 AND (text <> '' OR html <> '')", [user.email])).toEqual([]);
  });

  it('sends each message once with two workers on one outbox', async () => {
    const second = await startLatch({ SMTP_URL: smtp.url }, { databaseUrl: running.databaseUrl });
    try {
      const recipient = `many-${randomUUID()}@example.com`;
      const count = 40;
      await query(
        running.databaseUrl,
        `INSERT INTO mail_outbox (id, kind, recipient, subject, text, html)
         SELECT gen_random_uuid(), 'password_changed', $1, 'Message ' || n, 'Text ' || n, '<p>' || n || '</p>' FROM generate_series(1, $2::int) AS n`,
        [recipient, count],
      );
      running.latch.mail.worker?.wake();
      second.latch.mail.worker?.wake();

      const mails = await smtp.waitFor(count, { to: recipient, timeoutMs: 20_000 });
      await sleep(1000);
      const received = smtp.received.filter((mail) => mail.to.includes(recipient));
      expect(received).toHaveLength(count);
      expect(new Set(received.map((mail) => mail.subject)).size).toBe(count);
      expect(new Set(mails.map((mail) => mail.messageId)).size).toBe(count);
      expect(new Set((await outboxOf(running, recipient)).map((row) => `${row.status}/${row.attempts}`))).toEqual(new Set(['sent/1']));
    } finally {
      await second.stop();
    }
  });
});

describe('mail templates', () => {
  const issuer = 'https://id.example.com';
  const templates = createMailTemplates({ directory: resolve(projectRoot, 'views', 'mail'), productName: 'Acme <ID>', issuer, cache: false });
  const link = `${issuer}/self-service/page?token=abc`;
  const kinds: { [Kind in MailKind]: MailLocals[Kind] } = {
    email_verification: { link, hours: 24 },
    password_reset: { link, minutes: 30 },
    password_changed: { link },
    email_change: { link, hours: 24, oldEmail: 'old@example.com' },
    email_changed: { link, newEmail: 'new@example.com' },
    recovery_code_used: { link, remaining: 9 },
  };

  it.each(Object.keys(kinds) as MailKind[])('%s: exactly one Latch link in the text part, the product name in subject and HTML', async (kind) => {
    const mail = await templates.render(kind, kinds[kind] as never);
    expect(mail.text.match(/https?:\/\/\S+/g)).toEqual([link]);
    expect(mail.subject).toContain('Acme <ID>');
    expect(mail.subject).not.toMatch(/\n/);
    expect(mail.text).toContain('Acme <ID>');
    expect(mail.html).toContain('Acme &lt;ID&gt;');
    expect(mail.html).toContain(`href="${link.replace(/&/g, '&amp;')}"`);
  });
});
