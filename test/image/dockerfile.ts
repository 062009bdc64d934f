import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Latch's Dockerfile, carried out without Docker: each stage is a directory standing for its
 * WORKDIR, COPY copies from the checkout (or from an earlier stage), RUN runs in that directory
 * with the stage's ENV. Only the instructions this Dockerfile uses are understood; any other
 * fails loudly, so the test cannot drift from the file it checks.
 */
export interface BuiltImage {
  /** The final stage's directory: what the image's /app holds. */
  root: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
}

interface Stage {
  name?: string;
  dir: string;
  env: Record<string, string>;
}

/** Folds `\` continuations and drops comments and blank lines. */
export function instructions(dockerfile: string): string[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

function parseEnv(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((match) => [match[1], (match[2] ?? '').replace(/^"|"$/g, '')]));
}

/** The build context leaves out what .dockerignore names (this file uses plain paths only). */
async function contextFilter(checkout: string): Promise<(source: string) => boolean> {
  const ignored = (await readFile(join(checkout, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return (source) => {
    const path = relative(checkout, source);
    return !ignored.some((entry) => path === entry || path.startsWith(`${entry}/`));
  };
}

export async function buildWithoutDocker(checkout: string, dockerfile = join(checkout, 'Dockerfile')): Promise<BuiltImage> {
  const workspace = await mkdtemp(join(tmpdir(), 'latch-image-'));
  const inContext = await contextFilter(checkout);
  const stages: Stage[] = [];
  let cmd: string[] = [];
  let healthcheck: string[] = [];
  const current = () => {
    const stage = stages.at(-1);
    if (!stage) throw new Error('instruction before FROM');
    return stage;
  };

  for (const line of instructions(await readFile(dockerfile, 'utf8'))) {
    const [keyword = '', ...words] = line.split(/\s+/);
    const rest = line.slice(keyword.length).trim();
    switch (keyword) {
      case 'FROM': {
        const dir = join(workspace, `stage-${stages.length}`);
        await mkdir(dir, { recursive: true });
        stages.push({ name: /\bAS\s+(\S+)/i.exec(rest)?.[1], dir, env: {} });
        break;
      }
      case 'WORKDIR':
      case 'EXPOSE':
      case 'USER':
        // The stage directory is the WORKDIR; ports and users are Docker's business.
        break;
      case 'ENV':
        Object.assign(current().env, parseEnv(rest.replaceAll('/app', current().dir)));
        break;
      case 'COPY': {
        const from = /^--from=(\S+)/.exec(words[0] ?? '')?.[1];
        const paths = from ? words.slice(1) : words;
        const destination = join(current().dir, paths.at(-1) as string);
        for (const source of paths.slice(0, -1)) {
          const origin = from ? join(stages.find((stage) => stage.name === from)?.dir ?? '', relative('/app', source)) : join(checkout, source);
          const target = paths.length > 2 || destination.endsWith('/') ? join(destination, source.split('/').at(-1) as string) : destination;
          await cp(origin, target, { recursive: true, filter: from ? undefined : inContext });
        }
        break;
      }
      case 'RUN':
        await run('sh', ['-c', rest], { cwd: current().dir, env: { ...process.env, ...current().env }, maxBuffer: 64 * 1024 * 1024 });
        break;
      case 'HEALTHCHECK':
        healthcheck = JSON.parse(rest.slice(rest.indexOf('CMD') + 3).trim()) as string[];
        break;
      case 'CMD':
        cmd = JSON.parse(rest) as string[];
        break;
      default:
        throw new Error(`test/image does not know the Dockerfile instruction ${keyword}`);
    }
  }
  const final = current();
  return { root: final.dir, env: final.env, cmd, healthcheck };
}
