import { startLatch, type RunningLatch } from '../support/latch.js';
import { createUser, PASSWORD } from '../support/sign-in.js';

describe('without SMTP_URL, outside production', () => {
  let running: RunningLatch;

  beforeAll(async () => {
    running = await startLatch();
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('catches mail: /dev/mail lists it as a mail client would, and the log prints its link, never a password', async () => {
    const user = await createUser(running);
    await running.latch.mail.worker?.idle();

    const inbox = await running.http().get('/dev/mail').expect(200);
    expect(inbox.headers['content-type']).toMatch(/^text\/html/);
    expect(inbox.text).toContain('Verify your email address for Latch');
    expect(inbox.text).toContain(user.email);
    const id = /href="\/dev\/mail\/([0-9a-f-]{36})"/.exec(inbox.text)?.[1] as string;

    const message = await running.http().get(`/dev/mail/${id}`).expect(200);
    expect(message.text).toContain('<dt>To</dt>');
    expect(message.text).toMatch(/\/self-service\/verify-email\?token=[A-Za-z0-9_-]{43}/);
    const html = await running.http().get(`/dev/mail/${id}/html`).expect(200);
    expect(html.text).toContain('Verify my email address');
    expect(html.headers['content-security-policy']).toMatch(/default-src 'none'/);

    const caught = running
      .logs()
      .split('\n')
      .filter((line) => line.includes('"mail.caught"'))
      .map((line) => JSON.parse(line) as { mailId: string; link: string });
    const link = /(http:\/\/\S+\/self-service\/verify-email\?token=[A-Za-z0-9_-]{43})/.exec(message.text)?.[1];
    expect(caught.find((line) => line.mailId === id)?.link).toBe(link);
    expect(running.logs()).not.toContain(user.email);
    expect(running.logs()).not.toContain(PASSWORD);

    await running.http().get('/dev/mail/not-an-id').expect(404);
  });

  it("keeps each log line's fields to itself: the request line does not pick up an audit line's", async () => {
    await createUser(running);
    const requestLines = running
      .logs()
      .split('\n')
      .filter((line) => line.includes('"msg":"request"') && line.includes('"path":"/api/v1/users"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line.event).toBeUndefined();
  });
});

describe('in production', () => {
  let running: RunningLatch;

  beforeAll(async () => {
    running = await startLatch({ NODE_ENV: 'production' });
  });

  afterAll(async () => {
    await running?.stop();
  });

  it('has no /dev/mail, and keeps mail in the outbox until an SMTP server is configured', async () => {
    await running.http().get('/dev/mail').expect(404);
    expect(running.config.accounts.requireEmailVerification).toBe(true);
    expect(running.logs()).toContain('"mail.no_transport"');
  });
});
