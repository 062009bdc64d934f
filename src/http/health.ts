import type { Middleware } from 'koa';
import { RETRY_AFTER_SECONDS } from './problem.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves when ready; rejects with a short, non-sensitive reason otherwise. */
  check(): Promise<void>;
}

/** Long enough that a probe storm costs one query per process per second, short enough to notice an outage at once. */
const READINESS_CACHE_MS = 1_000;
const CHECK_TIMEOUT_MS = 2_000;

/**
 * /healthz answers while the process lives (liveness: restart me if this fails); /readyz answers
 * 200 only when every readiness check passes (send me traffic), 503 otherwise, naming the failed
 * check. Both are plain JSON and never reach the database more than once a second.
 */
export function healthEndpoints(checks: ReadinessCheck[]): Middleware {
  let cached: { at: number; result: Promise<Record<string, string>> } | undefined;

  const evaluate = async () => {
    const outcomes = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch (error) {
          return [name, error instanceof Error ? error.message : 'failed'] as const;
        }
      }),
    );
    return Object.fromEntries(outcomes);
  };

  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { status: 'ok' };
      return;
    }
    if (ctx.path !== '/readyz') return next();

    const now = Date.now();
    if (!cached || now - cached.at > READINESS_CACHE_MS) cached = { at: now, result: evaluate() };
    const results = await cached.result;
    const ready = Object.values(results).every((outcome) => outcome === 'ok');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = ready ? 200 : 503;
    // A load balancer or orchestrator may honour it; every other 503 of Latch carries it too.
    if (!ready) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = { status: ready ? 'ready' : 'unavailable', checks: results };
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
