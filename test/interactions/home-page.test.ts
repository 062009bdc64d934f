import { startLatch, type RunningLatch } from '../support/latch.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch();
});

afterAll(async () => {
  await running?.stop();
});

function expectPageHeaders(headers: Record<string, string>) {
  expect(headers['content-type']).toBe('text/html; charset=utf-8');
  expect(headers['content-security-policy']).toMatch(/^default-src 'none'; style-src 'nonce-[^']+'; frame-ancestors 'none'; base-uri 'none'$/);
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
}

describe('GET / (the page a person who opens Latch itself sees)', () => {
  it('says what Latch is and links to the discovery document and the account page', async () => {
    const response = await running.http().get('/');

    expect(response.status).toBe(200);
    expectPageHeaders(response.headers);
    expect(response.text).toContain('OpenID Connect provider');
    expect(response.text).toContain(`href="${running.baseUrl}/.well-known/openid-configuration"`);
    expect(response.text).toContain(`href="${running.baseUrl}/account"`);
    // The page's only style is the nonce'd one the policy allows.
    const nonce = /style-src 'nonce-([^']+)'/.exec(response.headers['content-security-policy'] as string)?.[1];
    expect(response.text).toContain(`<style nonce="${nonce}">`);
  });

  it('answers HEAD with the same headers and no body', async () => {
    const response = await running.http().head('/');

    expect(response.status).toBe(200);
    expectPageHeaders(response.headers);
    expect(response.text ?? '').toBe('');
  });

  it('is only exactly /: other paths and methods are answered as before', async () => {
    for (const path of ['/index.html', '/home', '//']) {
      const response = await running.http().get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    const posted = await running.http().post('/').type('form').send({ a: 'b' });
    expect(posted.status).toBe(404);
    expect(posted.text).not.toContain('OpenID Connect provider');
  });
});

describe('paths that no endpoint serves', () => {
  it('answer 404 with the error page and Latch headers, not a bare text/plain Not Found', async () => {
    for (const [method, path] of [
      ['get', '/index.html'],
      ['post', '/session/end'],
      ['post', '/auth'],
      ['get', '/reg/'],
      ['delete', '/'],
    ] as const) {
      const response = await running.http()[method](path);
      expect({ path, method, status: response.status }).toEqual({ path, method, status: 404 });
      expectPageHeaders(response.headers);
      expect(response.text).toContain('There is no such page');
    }
  });

  it('leave oidc-provider and the REST API their own answers', async () => {
    const token = await running.http().post('/token').type('form').send({ grant_type: 'nothing' });
    expect(token.status).toBe(400);
    expect(token.body).toMatchObject({ error: expect.any(String) });
    const api = await running.http().get('/api/v1/nothing-here');
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
