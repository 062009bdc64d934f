import type Router from '@koa/router';
import { z } from 'zod';
import type { AccountService } from '../account/account-service.js';
import { jsonBody, parseBody } from './guard.js';
import { presentUser } from './user-representation.js';

export const requiredString = (what: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${what} is required` : `${what} must be a string`) });

/**
 * Shape only: the account service owns the rules (email syntax, password policy), so a form and
 * this API cannot drift apart. Unknown fields are refused rather than silently dropped.
 */
export const registrationSchema = z.strictObject({
  email: requiredString('email').max(320, 'email must be at most 320 characters'),
  password: requiredString('password').max(4096, 'password must be at most 4096 characters'),
  name: requiredString('name').max(255, 'name must be at most 255 characters').optional(),
});

export function mountUserRoutes(router: Router, { accounts }: { accounts: AccountService }): void {
  router.post('/users', jsonBody(), async (ctx) => {
    const input = parseBody(ctx, registrationSchema);
    const user = await accounts.register(input);
    ctx.status = 201;
    ctx.set('Location', `${ctx.path}/${user.id}`);
    ctx.body = presentUser(user);
  });
}
