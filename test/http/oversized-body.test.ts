import { connect, type Socket } from 'node:net';
import { startLatch, type RunningLatch } from '../support/latch.js';

let running: RunningLatch;

beforeAll(async () => {
  running = await startLatch();
});

afterAll(async () => {
  await running.stop();
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
}

/** Reads one HTTP/1.1 response head (and its Content-Length body) from the socket; undefined if the socket closed first. */
function nextResponse(socket: Socket, buffered: { data: Buffer }): Promise<RawResponse | undefined> {
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const text = buffered.data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return false;
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const length = Number(headers['content-length'] ?? 0);
      if (buffered.data.length < end + 4 + length) return false;
      buffered.data = buffered.data.subarray(end + 4 + length);
      resolve({ status: Number(statusLine.split(' ')[1]), headers });
      return true;
    };
    if (attempt()) return;
    const onData = (chunk: Buffer) => {
      buffered.data = Buffer.concat([buffered.data, chunk]);
      if (attempt()) cleanup();
    };
    const onClose = () => {
      cleanup();
      resolve(undefined);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('no response within 3 s: the connection hangs'));
    }, 3000);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

const host = () => new URL(running.baseUrl).host;

const FORM = 'application/x-www-form-urlencoded';

describe.each([
  ['/token/introspection', FORM],
  ['/token/revocation', FORM],
  ['/me', FORM],
  ['/token', FORM],
  ['/api/v1/users', 'application/json'],
  ['/interaction/some-uid/login', FORM],
  ['/token', `${FORM}; chunked`],
  ['/token/introspection', `${FORM}; chunked`],
  ['/api/v1/users', 'application/json; chunked'],
])('a body over the size limit (1 MiB) at %s, %s', (path, contentType) => {
  it('is refused, and the connection either serves the next request or is closed', async () => {
    const url = new URL(running.baseUrl);
    const socket = connect(Number(url.port), url.hostname);
    socket.on('error', () => {});
    const buffered = { data: Buffer.alloc(0) };
    const body = `token=${'a'.repeat(1024 * 1024)}`;
    // "; chunked": sent without a Content-Length, so the size shows only while reading.
    const [type, chunked] = contentType.split('; ');
    const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`;
    const payload = chunked ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body;
    socket.write(`POST ${path} HTTP/1.1\r\nHost: ${host()}\r\nConnection: keep-alive\r\nContent-Type: ${type}\r\n${framing}\r\n\r\n${payload}`);
    const first = await nextResponse(socket, buffered);
    expect(first?.status).toBeGreaterThanOrEqual(400);
    expect(first?.status).toBeLessThan(500);

    if (first?.headers.connection?.toLowerCase() === 'close') {
      // Closed, as announced: nothing else is read from it.
      socket.destroy();
      return;
    }
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host()}\r\nConnection: close\r\n\r\n`);
    const second = await nextResponse(socket, buffered);
    socket.destroy();
    expect(second?.status).toBe(200);
  });
});
