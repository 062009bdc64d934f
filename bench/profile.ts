/**
 * CPU profiles of a bench server, per scenario, taken with the inspector inside the server process
 * (the same sampler as `node --cpu-prof`), saved as .cpuprofile files (Chrome DevTools opens them)
 * and summarised: self time by top frame, and by where the code lives.
 */
import { writeFile } from 'node:fs/promises';
import { Session, type Profiler } from 'node:inspector/promises';
import { join } from 'node:path';

let session: Session | undefined;

export async function startProfile(): Promise<void> {
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}

export interface ProfileSummary {
  file: string;
  /** Share of sampled time by area: Prisma, pino, oidc-provider, Latch, node internals, ... */
  areas: [string, number][];
  /** The heaviest functions by self time. */
  top: [string, number][];
}

const AREAS: [string, RegExp][] = [
  ['prisma', /@prisma|generated\/prisma|query_compiler/],
  ['pg driver', /node_modules\/pg(-[a-z]+)?\//],
  ['pino (logging)', /pino|fast-redact|sonic-boom|safe-stable-stringify/],
  ['oidc-provider', /oidc-provider/],
  ['jose (crypto)', /jose/],
  ['koa', /node_modules\/(koa|@koa)/],
  ['argon2', /argon2/],
  ['latch', /\/src\//],
  ['node internals', /^node:|^internal\//],
];

function areaOf(url: string, name: string): string {
  if (!url) return name === '(garbage collector)' ? 'gc' : name === '(idle)' ? 'idle' : name.startsWith('(') ? 'native/other' : 'native/other';
  return AREAS.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other libraries';
}

export async function stopProfile(directory: string, name: string): Promise<ProfileSummary> {
  if (!session) throw new Error('no profile running');
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  session = undefined;
  const file = join(directory, `${name}.cpuprofile`);
  await writeFile(file, JSON.stringify(profile));
  return { file, ...summarise(profile) };
}

function summarise(profile: Profiler.Profile): Omit<ProfileSummary, 'file'> {
  const byArea = new Map<string, number>();
  const byFrame = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    if (area === 'idle' || hits === 0) continue;
    busy += hits;
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
    const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(src|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const frame = `${functionName || '(anonymous)'} ${where}`.trim();
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + hits);
  }
  const share = (entries: Map<string, number>, count: number) =>
    [...entries.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, hits]): [string, number] => [key, hits / Math.max(1, busy)]);
  return { areas: share(byArea, 12), top: share(byFrame, 12) };
}
