import { Secret, TOTP } from 'otpauth';
import { adminClientToken } from '../../support/admin.js';
import { startLatch, type RunningLatch } from '../../support/latch.js';
import { createUser } from '../../support/sign-in.js';
import { query } from '../../support/sql.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch();
});

afterAll(async () => {
  await running?.stop();
});

describe('DELETE /api/v1/admin/users/{id}/factors', () => {
  it("removes the user's factors and recovery codes, audited with the admin as actor", async () => {
    const user = await createUser(running);
    const { factors } = running.latch;
    const enrolment = await factors.startTotp(user);
    await factors.confirmTotp(user.id, enrolment.factorId, new TOTP({ secret: Secret.fromBase32(enrolment.secret) }).generate());
    const token = await adminClientToken(running);

    const response = await running.http().delete(`/api/v1/admin/users/${user.id}/factors`).set('Authorization', `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ removed: 1 });
    expect(await factors.hasSecondFactor(user.id)).toBe(false);
    expect(await factors.unusedRecoveryCodes(user.id)).toBe(0);
    const [event] = await query<{ actor: string }>(running.databaseUrl, "SELECT actor FROM audit_events WHERE subject_id = $1 AND event = 'factor.reset'", [user.id]);
    expect(event?.actor).toMatch(/^client:/);
  });

  it('answers 404 problem+json for a user that does not exist, and 401 without a token', async () => {
    const token = await adminClientToken(running);
    for (const id of ['0190aaaa-0000-7000-8000-000000000000', 'not-a-uuid']) {
      const response = await running.http().delete(`/api/v1/admin/users/${id}/factors`).set('Authorization', `Bearer ${token}`);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await running.http().delete('/api/v1/admin/users/0190aaaa-0000-7000-8000-000000000000/factors')).status).toBe(401);
  });
});
