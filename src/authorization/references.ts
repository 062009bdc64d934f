const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Roles and resource servers are named by their id or by their unique name (identifier): whichever an admin has at hand. */
export const isUuid = (reference: string) => UUID.test(reference);

/** Role names: what tokens carry in `roles`, so short, printable and never mistaken for an id. */
export const ROLE_NAME = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,63}$/;
/** A permission is a scope token (RFC 6749 §3.3). */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
