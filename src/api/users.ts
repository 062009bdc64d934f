import { z } from 'zod';
import type { AccountService } from '../account/account-service.js';
import { TooManyRequestsError } from '../errors.js';
import type { RegistrationThrottle } from '../throttle/registration-throttle.js';
import type { SelfService } from '../self-service/self-service.js';
import type { ApiRoutes } from './operation.js';
import { presentUser, userRepresentationSchema } from './user-representation.js';

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
}).meta({ id: 'Registration' });

export function mountUserRoutes(
  routes: ApiRoutes,
  { accounts, selfService, registrationThrottle }: { accounts: AccountService; selfService: Pick<SelfService, 'sendVerification'>; registrationThrottle: RegistrationThrottle },
): void {
  routes.add(
    {
      id: 'registerUser',
      method: 'post',
      path: '/users',
      summary: 'Register a user',
      description:
        'Creates an account with a password; the password policy (NIST SP 800-63B) is checked here. A link that verifies the address is mailed to it. Registrations are limited per client network, counted together with the registration page.',
      body: registrationSchema,
      replies: { 201: { description: 'The new user.', body: userRepresentationSchema, headers: { Location: 'The path of the new user.' } } },
      problems: ['invalid_input', 'conflict', 'too_many_requests', 'internal', 'unavailable'],
    },
    async (ctx, input) => {
      // Before anything else: each attempt may cost a hash, and a 409 tells whether an email is taken.
      const wait = await registrationThrottle.attempt(ctx.ip);
      if (wait !== null) throw new TooManyRequestsError('Too many accounts have been registered from your network. Try again later.', wait);
      const user = await accounts.register(input);
      try {
        await selfService.sendVerification(user);
      } catch (error) {
        // The account exists either way: its owner can ask for a link later.
        if (!(error instanceof TooManyRequestsError)) throw error;
      }
      ctx.set('Location', `${ctx.path}/${user.id}`);
      return { status: 201, body: presentUser(user) };
    },
  );
}
