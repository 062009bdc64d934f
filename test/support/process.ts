import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { findFreePort } from './free-port.js';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface LatchProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `src/main.ts` as its own process, with only the given environment (plus PATH), and resolves
 * once it answers /healthz on its PORT. tsx is loaded into the process rather than run as its CLI:
 * the CLI relays signals to a child it SIGKILLs when that child does not acknowledge within 30 ms,
 * as a busy one may not, and signals must reach Latch as they do in production (`node dist/main.js`).
 */
export async function spawnLatch(environment: Record<string, string>, { timeoutMs = 30_000 } = {}): Promise<LatchProcess> {
  // Every process needs a metrics port of its own.
  const metricsPort = environment.METRICS_PORT ?? String(await findFreePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? '', METRICS_PORT: metricsPort, ...environment },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  const deadline = Date.now() + timeoutMs;
  const healthz = `http://127.0.0.1:${environment.PORT ?? '3000'}/healthz`;
  const answers = () => fetch(healthz).then((response) => response.ok, () => false);
  while (!(await answers())) {
    if (child.exitCode !== null) throw new Error(`Latch exited with ${child.exitCode} before listening:\n${stderr}${stdout}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Latch did not listen within ${timeoutMs} ms:\n${stderr}${stdout}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}
