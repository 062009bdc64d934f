/**
 * The channel on which any change to what tokens are issued from is announced: resource servers,
 * permissions, roles and who holds them (no payload: each cache drops everything it holds). The
 * tables' own triggers send it (migration `announce_authorization_changes`), so every writer is
 * covered, an import or a cascade as much as the admin API, and the notice goes out when, and only
 * if, the change commits.
 */
export const AUTHORIZATION_CHANNEL = 'latch_authorization';
