/**
 * Floors below oidc-provider: a bare Koa route answering a fixed JSON document (what a
 * discovery-like read costs in Koa on this machine), and one PostgreSQL INSERT + SELECT over a pg
 * pool (what the cheapest database-backed request costs). No logging, no middleware.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import pg from 'pg';
import { serveParent } from '../child.js';

const environment = process.env as Record<string, string>;
const document = environment.BENCH_DOCUMENT ?? '{}';
const pool = new pg.Pool({ connectionString: environment.DATABASE_URL, max: 10 });
// The server stops with the bench; an idle connection it drops must not crash the floor.
pool.on('error', () => undefined);
await pool.query('CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, payload jsonb NOT NULL)');

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/document') {
    ctx.type = 'application/json';
    ctx.body = document;
  } else if (ctx.path === '/db') {
    const { rows } = await pool.query<{ id: string }>('INSERT INTO bench_floor (payload) VALUES ($1) RETURNING id', [{ at: Date.now() }]);
    const found = await pool.query('SELECT payload FROM bench_floor WHERE id = $1', [rows[0]?.id]);
    ctx.body = found.rows[0];
  }
});

serveParent(async () => {
  const server = createServer(app.callback()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      server.closeAllConnections();
      server.close();
      await pool.query('DROP TABLE IF EXISTS bench_floor');
      await pool.end();
    },
  };
});
