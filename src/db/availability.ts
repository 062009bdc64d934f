/**
 * Whether an error means PostgreSQL cannot be reached right now (down, restarting, failing over,
 * out of connections, stalled past a timeout), as opposed to a fault in a query. Such errors become 503s, which clients
 * retry, rather than 500s.
 */

/** Prisma's connection-level error codes: P1001 unreachable, P1002 timed out, P1017 closed, P2024 pool timeout. */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** The pg driver adapter's error kinds for the same conditions. */
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);
/** SQLSTATE: class 08 connection exceptions; 57014 cancelled (the statement timeout); 57P01-57P03 shutdown and start-up. */
const UNAVAILABLE_SQLSTATE = /^(08|57014|57P0[123])/;
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);

interface ErrorShape {
  code?: unknown;
  meta?: { driverAdapterError?: { cause?: { kind?: unknown; code?: unknown } } };
  cause?: unknown;
  message?: unknown;
}

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, meta, cause, message } = error as ErrorShape;
  const adapterCause = meta?.driverAdapterError?.cause;
  if (typeof code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(code) || UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (typeof adapterCause?.kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(adapterCause.kind)) return true;
  if (typeof adapterCause?.code === 'string' && UNAVAILABLE_SQLSTATE.test(adapterCause.code)) return true;
  // node-postgres reports a server that vanished or stalled (its query and pool-acquire timeouts) only in words.
  if (typeof message === 'string' && /Connection terminated|connection timeout|Can't reach database server|Query read timeout|timeout exceeded when trying to connect/i.test(message)) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
