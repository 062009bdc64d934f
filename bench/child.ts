/**
 * The bench's servers run in child processes of their own, so that process.cpuUsage() and RSS are
 * the server's alone and the load generator's CPU is never counted against it. Parent and child
 * talk over Node's IPC channel: one request, one reply, matched by id.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Usage {
  /** Microseconds of CPU, user + system, since the process started. */
  cpuMicros: number;
  rssBytes: number;
  /** V8's live heap: what the process holds, as opposed to memory the allocator has not returned. */
  heapUsedBytes: number;
  /** Memory V8 accounts for outside its heap: Buffers, ArrayBuffers, WebAssembly memories (Prisma's query compiler). */
  externalBytes: number;
}

type Request = { id: number; method: string; args: unknown };
type Reply = { id: number; result?: unknown; error?: string };

export interface Child {
  port: number;
  call<T>(method: string, args?: unknown): Promise<T>;
  usage(): Promise<Usage>;
  stop(): Promise<void>;
}

const TSX = ['--import', 'tsx', '--experimental-wasm-modules', '--disable-warning=ExperimentalWarning'];

/** Starts bench/servers/<name>.ts; resolves once it listens and has said on which port. */
export async function startChild(name: string, env: Record<string, string>, { execArgv = [] as string[] } = {}): Promise<Child> {
  const file = fileURLToPath(new URL(`./servers/${name}.ts`, import.meta.url));
  // The server's own stdout (its request log) goes to /dev/null: written, as in production, but not shown.
  const child: ChildProcess = fork(file, [], { env: { ...process.env, ...env }, execArgv: [...TSX, '--expose-gc', ...execArgv], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 0;
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`bench server ${name} exited with ${code}`))));
  exited.catch(() => undefined);
  child.on('message', (message: Reply) => {
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.error !== undefined) waiting?.reject(new Error(`${name}: ${message.error}`));
    else waiting?.resolve(message.result);
  });
  const call = <T>(method: string, args?: unknown): Promise<T> =>
    Promise.race([
      exited,
      new Promise<T>((resolve, reject) => {
        nextId += 1;
        pending.set(nextId, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id: nextId, method, args } satisfies Request);
      }),
    ]);
  const port = await call<number>('ready');
  return {
    port,
    call,
    usage: () => call<Usage>('usage'),
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.send({ id: 0, method: 'stop', args: undefined } satisfies Request);
      await gone;
    },
  };
}

type Handler = (args: never) => unknown;

/** The child's side: serves the parent's calls; `ready` answers with the port once `start` resolves. */
export function serveParent(start: () => Promise<{ port: number; stop(): Promise<void> }>, handlers: Record<string, Handler> = {}): void {
  const started = start();
  const builtIn: Record<string, Handler> = {
    ready: async () => (await started).port,
    usage: (): Usage => {
      const { user, system } = process.cpuUsage();
      const { rss, heapUsed, external } = process.memoryUsage();
      return { cpuMicros: user + system, rssBytes: rss, heapUsedBytes: heapUsed, externalBytes: external };
    },
    // Between phases, so that "after" is what the process holds, not garbage it has not collected yet.
    gc: () => globalThis.gc?.(),
    stop: async () => {
      await (await started).stop();
      process.exit(0);
    },
  };
  process.on('message', (message: Request) => {
    const handler = builtIn[message.method] ?? handlers[message.method];
    void (async () => {
      try {
        if (!handler) throw new Error(`no method ${message.method}`);
        const result = await handler(message.args as never);
        if (message.id !== 0) process.send?.({ id: message.id, result } satisfies Reply);
      } catch (error) {
        process.send?.({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies Reply);
      }
    })();
  });
  started.catch((error: unknown) => {
    process.stderr.write(`bench server failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
