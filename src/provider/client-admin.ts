import { randomBytes } from 'node:crypto';
import { errors, type AdapterPayload, type ClientMetadata } from 'oidc-provider';
import type { AuditLog } from '../audit/audit-log.js';
import type { RoleAssignments } from '../authorization/assignments.js';
import { ADMIN_ROLE, ADMIN_SCOPE } from '../authorization/seed.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { FIRST_PARTY } from './configuration.js';
import type { SigningAlgorithm } from './keys/key-ring.js';
import type { OidcStore } from './oidc-store.js';

/** What an administrator decides about a new client; everything else is the provider's default. */
export interface NewClient {
  name?: string;
  /** No secret (token_endpoint_auth_method none): a browser or native app, which must use PKCE. */
  public: boolean;
  /** Skips the consent page: for the operator's own apps only. */
  firstParty: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** authorization_code brings refresh_token with it. */
  grants: ('authorization_code' | 'client_credentials')[];
  idTokenAlg?: SigningAlgorithm;
  /**
   * May ask for the `admin` scope (listed in its registered `scope`). A client_credentials client
   * also gets the admin role, so its own tokens carry `admin`; a sign-in client gets `admin` only
   * for users whose roles grant it.
   */
  admin?: boolean;
}

/** What an administrator changes on a client; an absent field is kept, a null one removed. */
export interface ClientChanges {
  name?: string | null;
  firstParty?: boolean;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grants?: NewClient['grants'];
  idTokenAlg?: SigningAlgorithm | null;
}

/** Who made a change, for the audit trail: "admin" (the CLI) unless an admin API caller says otherwise. */
export interface ChangedBy {
  actor?: string;
}

/** A client as an administrator sees it: never its secret, which is shown once, when it is made. */
export interface ClientSummary {
  clientId: string;
  name?: string;
  type: 'public' | 'confidential';
  firstParty: boolean;
  grantTypes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  idTokenAlg?: string;
  /** Its registered scope lists `admin`. */
  admin: boolean;
  /** From the client's metadata: when it was created, by this CLI or registered through DCR. */
  issuedAt?: Date;
}

export interface ClientAdmin {
  /** Validated by the provider exactly as it will load it. Throws InvalidClientMetadataError. */
  create(client: NewClient, by?: ChangedBy): Promise<{ client: ClientSummary; clientSecret?: string }>;
  list(): Promise<ClientSummary[]>;
  /** Throws ClientNotFoundError. */
  show(clientId: string): Promise<ClientSummary>;
  /**
   * Deletes the client and everything issued to it (grants, codes, access and refresh tokens), so
   * that nothing it holds keeps working anywhere. Users' sessions stay. Throws ClientNotFoundError.
   */
  delete(clientId: string, by?: ChangedBy): Promise<{ revoked: number }>;
  /** A new secret; the old one stops working at once. Tokens already issued stay valid. Throws ClientNotFoundError, InvalidClientMetadataError. */
  rotateSecret(clientId: string, by?: ChangedBy): Promise<string>;
  /** Validated by the provider as create is; tokens already issued stay valid. Throws ClientNotFoundError, InvalidClientMetadataError. */
  update(clientId: string, changes: ClientChanges, by?: ChangedBy): Promise<ClientSummary>;
}

export interface ClientAdminDependencies {
  store: Pick<OidcStore, 'upsert' | 'find' | 'list' | 'destroy' | 'revokeByClientId'>;
  /** The provider's own validation of client metadata (provider.Client.validate). */
  validate(metadata: ClientMetadata): Promise<void>;
  now: () => Date;
  /** Client changes are audit events, like those made through dynamic registration. */
  audit: AuditLog;
  /** An admin client's role, and a deleted client's roles. */
  assignments: Pick<RoleAssignments, 'assign' | 'forgetClient'>;
}

export class ClientNotFoundError extends NotFoundError {
  constructor(clientId: string) {
    super(`There is no client ${clientId}.`);
  }
}

export class InvalidClientMetadataError extends ValidationError {
  constructor(description: string) {
    super([{ field: '', message: description }], `The client is not valid: ${description}.`);
  }
}

const CLIENT = 'Client';
const CLI_ACTOR = 'admin';

/** authorization_code brings refresh_token with it, and the code response type. */
function grantMetadata(grants: NewClient['grants'], isPublic: boolean): Required<Pick<ClientMetadata, 'grant_types' | 'response_types'>> {
  const grantTypes = grants.flatMap((grant) => (grant === 'authorization_code' ? ['authorization_code', 'refresh_token'] : [grant]));
  if (isPublic && grantTypes.includes('client_credentials')) {
    // RFC 6749 §4.4: only a client that can authenticate may act on its own behalf.
    throw new InvalidClientMetadataError('a public client cannot use client_credentials, having no secret to authenticate with');
  }
  return { grant_types: grantTypes, response_types: grantTypes.includes('authorization_code') ? ['code'] : [] };
}

/**
 * Clients are oidc-provider Client rows in the store, exactly like those registered through DCR,
 * so the provider loads an administrator's client the way it loads any other.
 */
/**
 * With `admin`, the client's scope allow-list: every scope the provider knows, `admin` included
 * (oidc-provider refuses any known scope a client's list leaves out).
 */
const ADMIN_CLIENT_SCOPE = `openid offline_access email profile phone roles ${ADMIN_SCOPE}`;

export function createClientAdmin({ store, validate, now, audit, assignments }: ClientAdminDependencies): ClientAdmin {
  async function stored(clientId: string): Promise<ClientMetadata> {
    const payload = await store.find(CLIENT, clientId, now());
    if (!payload) throw new ClientNotFoundError(clientId);
    // A Client row's payload is the client's metadata, as oidc-provider and this service store it.
    return payload as ClientMetadata;
  }

  async function save(metadata: ClientMetadata): Promise<void> {
    try {
      await validate(metadata);
    } catch (error) {
      if (error instanceof errors.OIDCProviderError) throw new InvalidClientMetadataError(error.error_description ?? error.message);
      throw error;
    }
    // oidc-provider's own payload contract: client metadata is plain JSON. Clients never expire.
    await store.upsert(CLIENT, metadata.client_id, metadata as AdapterPayload, undefined);
  }

  return {
    async create(client, { actor = CLI_ACTOR } = {}) {
      const grants = grantMetadata(client.grants, client.public);
      const grantTypes = grants.grant_types ?? [];
      const clientSecret = client.public ? undefined : randomSecret();
      const metadata: ClientMetadata = {
        client_id: randomBytes(16).toString('base64url'),
        client_id_issued_at: Math.floor(now().getTime() / 1000),
        ...(clientSecret === undefined ? {} : { client_secret: clientSecret, client_secret_expires_at: 0 }),
        ...(client.name === undefined ? {} : { client_name: client.name }),
        token_endpoint_auth_method: client.public ? 'none' : 'client_secret_basic',
        ...grants,
        redirect_uris: client.redirectUris,
        post_logout_redirect_uris: client.postLogoutRedirectUris,
        ...(client.idTokenAlg === undefined ? {} : { id_token_signed_response_alg: client.idTokenAlg }),
        ...(client.firstParty ? { [FIRST_PARTY]: true } : {}),
        ...(client.admin === true ? { scope: grantTypes.includes('authorization_code') ? ADMIN_CLIENT_SCOPE : ADMIN_SCOPE } : {}),
      };
      await save(metadata);
      if (client.admin === true && grantTypes.includes('client_credentials')) {
        try {
          await assignments.assign({ client: metadata.client_id }, ADMIN_ROLE, actor);
        } catch (error) {
          // No half-made admin client: without its role it could never do what it was made for.
          await store.destroy(CLIENT, metadata.client_id);
          throw error;
        }
      }
      await audit.record('client.created', { actor, clientId: metadata.client_id, via: 'admin', admin: client.admin === true });
      return { client: summarise(metadata), clientSecret };
    },

    async list() {
      // As in stored(): Client payloads are client metadata.
      const clients = (await store.list(CLIENT, now())) as ClientMetadata[];
      return clients.map(summarise).sort((a, b) => (a.issuedAt?.getTime() ?? 0) - (b.issuedAt?.getTime() ?? 0));
    },

    async show(clientId) {
      return summarise(await stored(clientId));
    },

    async delete(clientId, { actor = CLI_ACTOR } = {}) {
      await stored(clientId);
      // The Client row first: from then on nothing new can be issued to it.
      await store.destroy(CLIENT, clientId);
      const revoked = await store.revokeByClientId(clientId);
      await assignments.forgetClient(clientId);
      await audit.record('client.deleted', { actor, clientId, revoked, via: 'admin' });
      return { revoked };
    },

    async rotateSecret(clientId, { actor = CLI_ACTOR } = {}) {
      const metadata = await stored(clientId);
      if (metadata.token_endpoint_auth_method === 'none') throw new InvalidClientMetadataError('a public client has no secret to rotate');
      const clientSecret = randomSecret();
      await save({ ...metadata, client_secret: clientSecret, client_secret_expires_at: 0 });
      await audit.record('client.secret_rotated', { actor, clientId, via: 'admin' });
      return clientSecret;
    },

    async update(clientId, changes, { actor = CLI_ACTOR } = {}) {
      const metadata = await stored(clientId);
      const { name, firstParty, redirectUris, postLogoutRedirectUris, grants, idTokenAlg } = changes;
      const next: ClientMetadata = {
        ...metadata,
        ...(grants === undefined ? {} : grantMetadata(grants, metadata.token_endpoint_auth_method === 'none')),
        ...(redirectUris === undefined ? {} : { redirect_uris: redirectUris }),
        ...(postLogoutRedirectUris === undefined ? {} : { post_logout_redirect_uris: postLogoutRedirectUris }),
        ...(name === undefined ? {} : { client_name: name ?? undefined }),
        ...(idTokenAlg === undefined ? {} : { id_token_signed_response_alg: idTokenAlg ?? undefined }),
        ...(firstParty === undefined ? {} : { [FIRST_PARTY]: firstParty || undefined }),
      };
      // Removed, not stored as undefined: the payload is JSON, and the provider reads absence as its default.
      const cleaned = Object.fromEntries(Object.entries(next).filter(([, value]) => value !== undefined)) as ClientMetadata;
      await save(cleaned);
      await audit.record('client.updated', { actor, clientId, fields: Object.keys(changes).filter((key) => changes[key as keyof ClientChanges] !== undefined), via: 'admin' });
      return summarise(cleaned);
    },
  };
}

/** 256 bits, as oidc-provider compares secrets: in constant time, as given. */
function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

function summarise(metadata: ClientMetadata): ClientSummary {
  return {
    clientId: metadata.client_id,
    name: metadata.client_name,
    type: metadata.token_endpoint_auth_method === 'none' ? 'public' : 'confidential',
    firstParty: metadata[FIRST_PARTY] === true,
    grantTypes: [...(metadata.grant_types ?? [])],
    redirectUris: [...(metadata.redirect_uris ?? [])],
    postLogoutRedirectUris: [...(metadata.post_logout_redirect_uris ?? [])],
    idTokenAlg: metadata.id_token_signed_response_alg,
    admin: typeof metadata.scope === 'string' && metadata.scope.split(' ').includes(ADMIN_SCOPE),
    issuedAt: typeof metadata.client_id_issued_at === 'number' ? new Date(metadata.client_id_issued_at * 1000) : undefined,
  };
}
