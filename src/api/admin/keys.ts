import { z } from 'zod';
import type { KeyAdministration } from '../../admin/key-administration.js';
import type { KeyState } from '../../provider/keys/key-ring.js';
import { DEFAULT_PUBLISH_FOR_SECONDS, type SigningKeySummary } from '../../provider/keys/signing-keys.js';
import { adminOf } from '../bearer-auth.js';
import type { ApiRoutes } from '../operation.js';

const timestamp = z.iso.datetime();

const keySchema = z.object({
  kid: z.string(),
  alg: z.string(),
  state: z.enum(['next', 'current', 'retired', 'expired']).describe('next: published, signing from activates_at; current: signing; retired: published, no longer signing; expired: about to be deleted.'),
  created_at: timestamp,
  activates_at: timestamp.describe('When it starts signing.'),
  retires_at: timestamp.nullable().describe('When it stops signing.'),
  expires_at: timestamp.nullable().describe('When it leaves the JWKS.'),
});
const keyListSchema = z.object({ keys: z.array(keySchema) }).meta({ id: 'AdminSigningKeyList' });

const rotatedKey = z.object({ kid: z.string(), alg: z.string() });
const rotationSchema = z
  .object({ created: z.array(rotatedKey), activates_at: timestamp, retired: z.array(rotatedKey), expires_at: timestamp.describe('When the retired keys leave the JWKS.') })
  .meta({ id: 'AdminKeyRotation' });

const rotateQuery = z.object({
  publish_for: z
    .string()
    .regex(/^\d{1,9}$/, 'publish_for must be a whole number of seconds')
    .transform(Number)
    .optional()
    .describe(`Seconds between publishing the new keys and signing with them; ${DEFAULT_PUBLISH_FOR_SECONDS} unless given, 0 for an emergency rotation.`),
});

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** The words for the key ring's states, as a relying party's operator thinks of them. */
const STATE_NAMES: Record<KeyState, 'next' | 'current' | 'retired' | 'expired'> = { staged: 'next', active: 'current', retired: 'retired', expired: 'expired' };

function presentKey(key: SigningKeySummary): z.input<typeof keySchema> {
  return { kid: key.kid, alg: key.alg, state: STATE_NAMES[key.state], created_at: key.createdAt.toISOString(), activates_at: key.activatesAt.toISOString(), retires_at: iso(key.retiresAt), expires_at: iso(key.expiresAt) };
}

/** The admin API's signing keys: `latch keys` over HTTP. Never a private half. */
export function mountAdminKeyRoutes(routes: ApiRoutes, { keys }: { keys: KeyAdministration }): void {
  routes.add(
    { id: 'adminListKeys', method: 'get', path: '/keys', summary: 'List signing keys', replies: { 200: { description: 'Every key, with its state and dates.', body: keyListSchema } }, problems: ['internal', 'unavailable'] },
    async () => ({ status: 200, body: { keys: (await keys.list()).map(presentKey) } }),
  );

  routes.add(
    {
      id: 'adminRotateKeys',
      method: 'post',
      path: '/keys/rotate',
      summary: 'Rotate the signing keys',
      description: 'New keys for every algorithm, published now and signing after publish_for seconds; the current ones then retire. Every running Latch picks the change up within 30 seconds.',
      query: rotateQuery,
      replies: { 200: { description: 'The rotation.', body: rotationSchema } },
      problems: ['invalid_input', 'internal', 'unavailable'],
    },
    async (ctx, _body, { publish_for }) => {
      const rotation = await keys.rotate({ publishFor: publish_for }, adminOf(ctx).actor);
      return {
        status: 200,
        body: { created: rotation.created, activates_at: rotation.activatesAt.toISOString(), retired: rotation.retired, expires_at: rotation.expiresAt.toISOString() },
      };
    },
  );
}
