import type { AuditLog } from '../audit/audit-log.js';
import { ConflictError } from '../errors.js';
import { NoActiveSigningKeyError, type Rotation, type SigningKeys, type SigningKeySummary } from '../provider/keys/signing-keys.js';

export interface KeyAdministration {
  /** Every key with its state (next, current, retired) and dates; never a private half. */
  list(): Promise<SigningKeySummary[]>;
  /** New keys published now, signing after `publishFor` seconds. KeysNotReadyError on a database no Latch has started on. */
  rotate(options: { publishFor?: number }, actor: string): Promise<Rotation>;
}

export class KeysNotReadyError extends ConflictError {}

/** Signing keys as administrators handle them, from the admin API and the CLI alike. */
export function createKeyAdministration({ signingKeys, audit }: { signingKeys: Pick<SigningKeys, 'list' | 'rotate'>; audit: AuditLog }): KeyAdministration {
  return {
    list: () => signingKeys.list(),

    async rotate({ publishFor }, actor) {
      let rotation: Rotation;
      try {
        rotation = await signingKeys.rotate({ publishFor });
      } catch (error) {
        if (error instanceof NoActiveSigningKeyError) throw new KeysNotReadyError(error.message, { cause: error });
        throw error;
      }
      await audit.record('key.rotated', { actor, created: rotation.created.map(({ kid }) => kid), retired: rotation.retired.map(({ kid }) => kid), publishFor });
      return rotation;
    },
  };
}
