import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { levelOfAcr } from '../factors/authentication-levels.js';
import type { RequiredLevel } from '../factors/authentication-requirement.js';
import { clientRequiresMfa } from './client-metadata.js';

/**
 * oidc-provider's prompts, with one more reason to ask for a sign-in: the browser's session is of
 * a lower level than this request needs (acr_values asking for multi-factor, a client or MFA_REQUIRED
 * requiring it). oidc-provider treats acr_values as voluntary and would otherwise answer from the
 * session as it is: the silent downgrade Latch never makes. max_age is oidc-provider's own check.
 */
export function loginPolicy(requiredLevel: RequiredLevel): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  const check = new interactionPolicy.Check('acr_unmet', 'the requested authentication level is higher than the session has', async (ctx: KoaContextWithOIDC) => {
    const { session, params, client, result } = ctx.oidc;
    // A sign-in just finished here was held to the same level by the sign-in step itself.
    const accountId = session?.accountId;
    if (!accountId || result?.login || !client) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const required = await requiredLevel({ acrValues: params?.acr_values, clientRequiresMfa: clientRequiresMfa(client), userId: accountId });
    return levelOfAcr(session.acr) >= required ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
  });
  policy.get('login')?.checks.add(check);
  return policy;
}
