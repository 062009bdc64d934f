import { z } from 'zod';
import type { SelfService } from '../self-service/self-service.js';
import { callerOf } from './bearer-auth.js';
import type { ApiRoutes } from './operation.js';
import { requiredString } from './users.js';

/** The same words whatever happened, so that the answer tells nothing. */
const acceptedSchema = z.object({ message: z.string() }).meta({ id: 'Accepted' });
const accepted = (description: string) => ({ description, body: acceptedSchema });

const passwordResetRequestSchema = z.strictObject({ email: requiredString('email').max(320, 'email must be at most 320 characters') }).meta({ id: 'PasswordResetRequest' });

/** The account flows that go through a mailed link: the API starts them, the link's page finishes them. */
export function mountSelfServiceRoutes(routes: ApiRoutes, { selfService }: { selfService: SelfService }): void {
  routes.add(
    {
      id: 'requestPasswordReset',
      method: 'post',
      path: '/password-resets',
      summary: 'Mail a password reset link',
      description:
        'Mails a single-use link (valid PASSWORD_RESET_TTL seconds) to the address if an account has it. The answer, and the time it takes, are the same whether or not one has: it tells nothing about which addresses are registered.',
      body: passwordResetRequestSchema,
      replies: { 202: accepted('Accepted: if an account has this address, a link is on its way.') },
      problems: ['too_many_requests', 'internal', 'unavailable'],
    },
    async (_ctx, { email }) => {
      await selfService.requestPasswordReset(email);
      return { status: 202, body: { message: 'If an account has this address, a link to choose a new password is on its way to it.' } };
    },
  );

  routes.add(
    {
      id: 'requestEmailVerification',
      method: 'post',
      path: '/users/me/email-verification',
      summary: "Mail a new link that verifies the signed-in user's email address",
      description: 'Any earlier link stops working. Nothing is sent for an address already verified.',
      scope: 'openid',
      replies: { 202: accepted('Accepted: unless the address is verified already, a link is on its way.') },
      problems: ['too_many_requests', 'internal', 'unavailable'],
    },
    async (ctx) => {
      await selfService.sendVerification(callerOf(ctx).user);
      return { status: 202, body: { message: 'Unless the address is verified already, a new link is on its way to it; earlier ones no longer work.' } };
    },
  );
}
