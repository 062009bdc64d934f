import { z } from 'zod';
import type { FactorService } from '../../factors/factor-service.js';
import { adminOf } from '../bearer-auth.js';
import type { ApiRoutes } from '../operation.js';

const resetSchema = z.object({ removed: z.number().int().describe('How many second factors were removed (recovery codes go with them).') }).meta({ id: 'FactorReset' });

/** An admin's way back in for a user who lost every factor and recovery code: the same reset as `latch users factors reset`. */
export function mountUserFactorRoutes(routes: ApiRoutes, factors: Pick<FactorService, 'reset'>): void {
  routes.add(
    {
      id: 'resetUserFactors',
      method: 'delete',
      path: '/users/:id/factors',
      summary: "Reset a user's second factors",
      description: 'Removes every second factor and recovery code of the user: the next sign-in asks for the password alone (and, where MFA_REQUIRED or the client requires one, has a new factor set up). Audited, with the admin as actor.',
      replies: { 200: { description: 'Reset.', body: resetSchema } },
      problems: ['not_found', 'internal', 'unavailable'],
    },
    async (ctx) => ({ status: 200, body: await factors.reset(ctx.params.id ?? '', adminOf(ctx).actor) }),
  );
}
