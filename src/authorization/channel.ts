/**
 * The channel on which any change to resource servers or their permissions is announced (no
 * payload: the directory is small and is read again whole). Role assignments need no channel:
 * they are read from the database at every issuance.
 */
export const AUTHORIZATION_CHANNEL = 'latch_authorization';

/** Appended to a change's transaction: PostgreSQL delivers the notice when, and only if, it commits. */
export const ANNOUNCE_SQL = `SELECT pg_notify('${AUTHORIZATION_CHANNEL}', '')::text`;
