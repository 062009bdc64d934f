import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WATCH_INTERVAL_MS } from '../src/provider/keys/signing-keys.js';

const readme = () => readFile(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

/** What a newcomer reads first, and what the code says elsewhere, must hold. */
describe('the README', () => {
  it('starts with the title, then the two commands: one starts Latch, one runs the tests', async () => {
    expect((await readme()).startsWith('# Latch\n\n```sh\nnpm install && npm start\nnpm test\n```\n')).toBe(true);
  });

  it('says how soon a key change reaches every running Latch as the key watch does', async () => {
    const text = (await readme()).replace(/\s+/g, ' ');
    expect(text).toContain(`Every running Latch picks a change up within ${DEFAULT_WATCH_INTERVAL_MS / 1000} seconds`);
  });
});
