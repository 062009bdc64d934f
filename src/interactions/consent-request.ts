import type { UnknownObject } from 'oidc-provider';

/** What the consent prompt found missing from the grant (oidc-provider's prompt details). */
export interface ConsentRequest {
  scopes: string[];
  claims: string[];
  /** Resource indicator → its scopes. */
  resourceScopes: Record<string, string[]>;
}

const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

export function consentRequestOf(details: UnknownObject): ConsentRequest {
  const resources = details.missingResourceScopes;
  const resourceScopes =
    typeof resources === 'object' && resources !== null
      ? Object.fromEntries(Object.entries(resources).map(([indicator, scopes]) => [indicator, strings(scopes)]))
      : {};
  return { scopes: strings(details.missingOIDCScope), claims: strings(details.missingOIDCClaims), resourceScopes };
}

/** Scopes in the words the consent page uses; a scope not listed is shown by its name. */
const SCOPE_WORDS: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'See your name and profile',
  email: 'See your email address',
  phone: 'See your phone number',
  offline_access: 'Keep you signed in',
};

/** Each requested scope once, in words: an API scope shared with OpenID Connect (Latch's own API's) is the same permission. */
export function describeScopes(request: ConsentRequest): string[] {
  const scopes = new Set([...request.scopes, ...Object.values(request.resourceScopes).flat()]);
  return [...scopes].map((scope) => SCOPE_WORDS[scope] ?? scope);
}
