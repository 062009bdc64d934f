import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type SignInOutcome = 'succeeded' | 'failed' | 'locked';

export interface Metrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  tokensIssued: Counter<'grant_type'>;
  signIns: Counter<'outcome'>;
  /** Reports the pool's connections on every scrape. */
  observePool(pool: pg.Pool, poolMax: number): void;
}

/**
 * Latch's Prometheus series, in a registry of its own (no global default registry), so two Latch
 * instances in one process (tests) never mix their numbers. Default Node metrics include the
 * event-loop lag.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'latch_' });

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'latch_http_request_duration_seconds',
      help: 'HTTP request duration by route (the route pattern or the OIDC endpoint, never the raw path).',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    tokensIssued: new Counter({
      name: 'latch_tokens_issued_total',
      help: 'Successful token endpoint responses by grant type.',
      labelNames: ['grant_type'],
      registers: [registry],
    }),
    signIns: new Counter({
      name: 'latch_sign_ins_total',
      help: 'Password sign-ins by outcome: succeeded, failed (wrong credentials) or locked (throttled).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    observePool(pool, poolMax) {
      new Gauge({
        name: 'latch_db_pool_connections',
        help: 'PostgreSQL pool connections by state; "max" is the configured bound.',
        labelNames: ['state'],
        registers: [registry],
        collect() {
          this.set({ state: 'total' }, pool.totalCount);
          this.set({ state: 'idle' }, pool.idleCount);
          this.set({ state: 'waiting' }, pool.waitingCount);
          this.set({ state: 'max' }, poolMax);
        },
      });
    },
  };
}
