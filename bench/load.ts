/**
 * The load generator: keep-alive HTTP/1.1 on loopback, closed loop (N workers, each sending its next
 * request when the last one answered: peak throughput) or open loop (requests started at a fixed
 * rate whether or not earlier ones answered: the latency users feel, free of coordinated omission).
 */
import { Agent, request } from 'node:http';

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, method, path, agent, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) } }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** One operation of a scenario; resolves true when it succeeded. */
export type Operation = (worker: number) => Promise<boolean>;

export interface Measurement {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
}

export interface Bounds {
  seconds: number;
  /** Stop earlier, after this many operations (the short CI mode). */
  maxRequests: number;
}

function summarise(durations: number[], errors: number, seconds: number): Measurement {
  durations.sort((a, b) => a - b);
  const at = (quantile: number) => durations[Math.min(durations.length - 1, Math.floor(quantile * durations.length))] ?? 0;
  return { requests: durations.length, seconds, perSecond: durations.length / seconds, p50: at(0.5), p99: at(0.99), errors };
}

/** The first failure of each kind is reported once, so that errors in the table can be explained. */
const reported = new Set<string>();

async function attempt(operation: Operation, worker: number): Promise<boolean> {
  try {
    return await operation(worker);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (!reported.has(message)) {
      reported.add(message);
      process.stderr.write(`bench: a request failed: ${message}\n`);
    }
    return false;
  }
}

export async function closedLoop(operation: Operation, { seconds, maxRequests }: Bounds, concurrency: number): Promise<Measurement> {
  const durations: number[] = [];
  let errors = 0;
  let started = 0;
  const begin = performance.now();
  const deadline = begin + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (started < maxRequests && performance.now() < deadline) {
        started += 1;
        const start = performance.now();
        const ok = await attempt(operation, worker);
        durations.push(performance.now() - start);
        if (!ok) errors += 1;
      }
    }),
  );
  return summarise(durations, errors, (performance.now() - begin) / 1000);
}

/** Starts `rate` operations a second; each one's latency counts from when it was due, not when it could start. */
export async function openLoop(operation: Operation, rate: number, { seconds, maxRequests }: Bounds): Promise<Measurement> {
  const durations: number[] = [];
  let errors = 0;
  const total = Math.max(1, Math.min(maxRequests, Math.round(rate * seconds)));
  const begin = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = begin + (index * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(
      attempt(operation, index).then((ok) => {
        durations.push(performance.now() - due);
        if (!ok) errors += 1;
      }),
    );
  }
  await Promise.all(inFlight);
  return summarise(durations, errors, (performance.now() - begin) / 1000);
}
