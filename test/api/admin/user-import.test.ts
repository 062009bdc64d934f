import { request } from 'node:http';
import bcrypt from 'bcryptjs';
import { registerClient } from '../../support/clients.js';
import { adminClientToken } from '../../support/admin.js';
import { startLatch, type RunningLatch } from '../../support/latch.js';
import { createUser, relyingParty, signIn } from '../../support/sign-in.js';
import { query } from '../../support/sql.js';

const password = 'correct horse battery staple';
const PATH = '/api/v1/admin/users:import';

let running: RunningLatch;
let token: string;

beforeAll(async () => {
  running = await startLatch();
  token = await adminClientToken(running);
  await running.latch.authorization.roles.create({ name: 'support' }, 'admin');
});

afterAll(async () => {
  await running?.stop();
});

/** Uploads the lines as a stream of chunks, one write per line, as a client piping a file does. */
function upload(lines: string[], { type = 'application/x-ndjson', bearer = token }: { type?: string; bearer?: string } = {}): Promise<{ status: number; type: string; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(running.baseUrl);
    const outgoing = request({ hostname, port, path: PATH, method: 'POST', headers: { 'content-type': type, authorization: `Bearer ${bearer}`, 'transfer-encoding': 'chunked' } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body: JSON.parse(text) as Record<string, unknown> }));
    });
    outgoing.on('error', reject);
    for (const line of lines) outgoing.write(`${line}\n`);
    outgoing.end();
  });
}

describe('POST /api/v1/admin/users:import', () => {
  it('imports a streamed body far over the JSON limit, with roles, and reports the bad lines; the bcrypt user signs in', async () => {
    const bcryptHash = bcrypt.hashSync(password, 4);
    const lines = [
      JSON.stringify({ email: 'margaret@example.com', name: 'Margaret Hamilton', roles: ['support'], password_hash: bcryptHash }),
      JSON.stringify({ email: 'nobody@example.com', roles: ['no-such-role'] }),
      '{oops',
      // Padding users: the body is well over the API's 16 KiB JSON limit.
      ...Array.from({ length: 300 }, (_, index) => JSON.stringify({ email: `padding-${index}@example.com`, name: `Padding ${index}`, locale: 'en-GB' })),
    ];
    expect(lines.join('\n').length).toBeGreaterThan(16 * 1024);

    const response = await upload(lines);

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      imported: 301,
      skipped: 2,
      errors: [
        { line: 2, reason: 'unknown role: no-such-role' },
        { line: 3, reason: 'not valid JSON' },
      ],
    });
    const [margaret] = await query<{ id: string }>(running.databaseUrl, "select id::text from users where email = 'margaret@example.com'");
    const roles = await running.latch.authorization.assignments.list({ user: margaret?.id ?? '' });
    expect(roles.map((role) => role.name)).toEqual(['support']);
    expect(await query(running.databaseUrl, "select 1 from users where email = 'nobody@example.com'")).toEqual([]);
    const [event] = await query<{ actor: string; details: unknown }>(running.databaseUrl, "select actor, details from audit_events where event = 'users.imported'");
    expect(event).toEqual({ actor: expect.stringMatching(/^client:/), details: { lines: 303, imported: 301, skipped: 2 } });

    const app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
    const { tokens } = await signIn(app, { email: 'margaret@example.com', password });
    expect(tokens.claims()?.sub).toBe(margaret?.id);
  });

  it('accepts application/jsonl too, and refuses JSON or anything else with problem+json 415', async () => {
    expect((await upload([JSON.stringify({ email: 'jsonl@example.com' })], { type: 'application/jsonl' })).body).toEqual({ imported: 1, skipped: 0, errors: [] });

    for (const type of ['application/json', 'text/plain']) {
      const refused = await upload([JSON.stringify({ email: 'refused@example.com' })], { type });
      expect(refused.status).toBe(415);
      expect(refused.type).toMatch(/^application\/problem\+json/);
      expect(refused.body).toMatchObject({ type: 'urn:latch:problem:unsupported-media-type', detail: expect.stringContaining('application/x-ndjson') });
    }
    expect(await query(running.databaseUrl, "select 1 from users where email = 'refused@example.com'")).toEqual([]);
  });

  it('is for admins only', async () => {
    const noToken = await running.http().post(PATH).set('Content-Type', 'application/x-ndjson').send('{"email": "x@example.com"}\n');
    expect(noToken.status).toBe(401);

    const user = await createUser(running);
    const app = await relyingParty(running, await registerClient(running.latch, { redirect_uris: ['https://app.example.com/callback'], first_party: true }));
    const { tokens } = await signIn(app, user, { scope: 'openid' });
    const userToken = await upload([JSON.stringify({ email: 'by-a-user@example.com' })], { bearer: tokens.access_token });
    expect(userToken.status).toBe(403);
    expect(await query(running.databaseUrl, "select 1 from users where email = 'by-a-user@example.com'")).toEqual([]);
  });

  it('is in the OpenAPI document, with its JSON lines body', async () => {
    const document = (await running.http().get('/api/v1/openapi.json')).body as { paths: Record<string, { post?: { requestBody?: { content: Record<string, unknown> }; parameters?: unknown } }> };
    const operation = document.paths['/admin/users:import']?.post;
    expect(Object.keys(operation?.requestBody?.content ?? {})).toEqual(['application/x-ndjson', 'application/jsonl', 'application/json-lines']);
    expect(operation?.parameters).toBeUndefined();
  });
});
