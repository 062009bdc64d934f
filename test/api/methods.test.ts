import { request } from 'node:http';
import { startLatch, type RunningLatch } from '../support/latch.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch();
});

afterAll(async () => {
  await running.stop();
});

/** node:http, since fetch refuses to send TRACE. */
function call(method: string, path: string): Promise<{ status?: number; type?: string; allow?: string; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const sent = request(new URL(path, running.baseUrl), { method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode,
          type: response.headers['content-type'],
          allow: response.headers.allow,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        }),
      );
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('methods the REST API does not serve', () => {
  it.each(['TRACE', 'PROPFIND', 'MKCOL'])('%s on a known path answers 405 with the path\'s methods in Allow, as problem+json', async (method) => {
    const answer = await call(method, '/api/v1/users/me');
    expect(answer).toMatchObject({ status: 405, type: expect.stringMatching(/^application\/problem\+json/), body: { type: 'urn:latch:problem:method-not-allowed', status: 405 } });
    expect(answer.allow?.split(', ').sort()).toEqual(['DELETE', 'GET', 'HEAD', 'PATCH']);
  });

  it('a known method on a known path it is not served at: 405 with Allow', async () => {
    const answer = await call('PUT', '/api/v1/users');
    expect(answer).toMatchObject({ status: 405, allow: 'POST', body: { type: 'urn:latch:problem:method-not-allowed' } });
  });

  it('an unknown method on an unknown path: 404', async () => {
    const answer = await call('PROPFIND', '/api/v1/nothing-here');
    expect(answer).toMatchObject({ status: 404, body: { type: 'urn:latch:problem:not-found' } });
  });
});
