import type { Context } from 'koa';
import type { ConnectedApps } from '../account/connected-apps.js';
import { MIN_PASSWORD_LENGTH } from '../account/password-policy.js';
import { EDITABLE_PROFILE_FIELDS } from '../account/profile-changes.js';
import type { SignInSessions } from '../account/sign-in-sessions.js';
import type { Profile } from '../account/user.js';
import type { Csrf } from '../interactions/csrf.js';
import { describeScopes } from '../interactions/consent-request.js';
import { UNNAMED_CLIENT } from '../interactions/interaction-session.js';
import type { AccountPageLocals, Views } from '../interactions/views.js';
import type { AccountVisitor } from './account-sign-in.js';

type EditableField = (typeof EDITABLE_PROFILE_FIELDS)[number];
type ProfileInput = AccountPageLocals['profile'][number];

/** How the profile form presents each claim. */
const PROFILE_INPUTS: Record<EditableField, Pick<ProfileInput, 'label' | 'type' | 'autocomplete' | 'hint'>> = {
  name: { label: 'Full name', type: 'text', autocomplete: 'name' },
  givenName: { label: 'Given name', type: 'text', autocomplete: 'given-name' },
  familyName: { label: 'Family name', type: 'text', autocomplete: 'family-name' },
  middleName: { label: 'Middle name', type: 'text', autocomplete: 'additional-name' },
  nickname: { label: 'Nickname', type: 'text', autocomplete: 'nickname' },
  preferredUsername: { label: 'Username', type: 'text', autocomplete: 'username' },
  picture: { label: 'Picture address', type: 'url', autocomplete: 'photo' },
  website: { label: 'Website', type: 'url', autocomplete: 'url' },
  gender: { label: 'Gender', type: 'text', autocomplete: 'sex' },
  birthdate: { label: 'Birthdate', type: 'text', autocomplete: 'bday', hint: 'YYYY-MM-DD, or the year alone.' },
  zoneinfo: { label: 'Time zone', type: 'text', autocomplete: 'off', hint: 'For example Europe/Paris.' },
  locale: { label: 'Language', type: 'text', autocomplete: 'language', hint: 'For example en-GB.' },
  phoneNumber: { label: 'Phone number', type: 'tel', autocomplete: 'tel' },
};

/** What the page says after an action succeeded (?done=...); a fixed list, so a link cannot put words on the page. */
export const NOTICES = {
  profile: 'Your profile has been saved.',
  password: 'Your password has been changed. Every other session has been signed out.',
  app: "The app's access has been removed. It will have to ask you again.",
  session: 'The session has been signed out.',
  sessions: 'Every other session has been signed out.',
  email: 'We sent a link to the new address: your email changes once you follow it. Your current address got a notice.',
} as const;

export type Notice = keyof typeof NOTICES;

/** What a failed form post shows again: the profile as typed, and the errors per field. */
export interface FormState {
  values?: Partial<Record<EditableField, string>>;
  fieldErrors?: Partial<Record<EditableField, string>>;
  errors?: AccountPageLocals['errors'];
}

const when = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
const formatted = (date: Date | undefined) => (date ? `${when.format(date)} UTC` : undefined);

export interface AccountPage {
  render(ctx: Context, visitor: AccountVisitor, options?: { notice?: Notice; form?: FormState; status?: number }): Promise<void>;
}

export function createAccountPage({ views, csrf, connectedApps, sessions, clientName, apiResource }: {
  views: Views;
  csrf: Csrf;
  connectedApps: Pick<ConnectedApps, 'list'>;
  sessions: Pick<SignInSessions, 'list'>;
  clientName: (clientId: string) => Promise<string | undefined>;
  apiResource: string;
}): AccountPage {
  const nameOf = async (clientId: string) => (await clientName(clientId)) ?? UNNAMED_CLIENT;

  return {
    async render(ctx, { user, sessionUid }, { notice, form = {}, status = 200 } = {}) {
      const [grants, signedIn] = await Promise.all([connectedApps.list(user.id), sessions.list(user.id, sessionUid)]);

      // One entry per app: a user who signed in to it from two browsers gave it two grants, and removes both at once.
      const apps = new Map<string, AccountPageLocals['apps'][number]>();
      for (const grant of grants) {
        const entry = apps.get(grant.clientId);
        const permissions = describeScopes({ scopes: grant.scopes, claims: [], resourceScopes: {} });
        const resources = grant.resources.map((indicator) => (indicator === apiResource ? 'Your Latch account' : indicator));
        if (entry) {
          entry.permissions = [...new Set([...entry.permissions, ...permissions])];
          entry.resources = [...new Set([...entry.resources, ...resources])];
        } else {
          apps.set(grant.clientId, { clientId: grant.clientId, name: grant.clientName ?? UNNAMED_CLIENT, permissions, resources, since: formatted(grant.grantedAt) ?? '' });
        }
      }

      const locals: AccountPageLocals = {
        email: user.email,
        emailVerified: user.emailVerified,
        profile: EDITABLE_PROFILE_FIELDS.map((field) => ({
          name: field,
          ...PROFILE_INPUTS[field],
          value: form.values?.[field] ?? (user.profile[field as keyof Profile] as string | null) ?? '',
          error: form.fieldErrors?.[field],
        })),
        apps: [...apps.values()],
        sessions: await Promise.all(
          signedIn.map(async (session) => ({
            uid: session.uid,
            current: session.current,
            device: session.device,
            ip: session.ip,
            lastSeen: formatted(session.lastSeenAt),
            signedIn: formatted(session.signedInAt),
            apps: await Promise.all(session.clientIds.map(nameOf)),
          })),
        ),
        notice: notice && NOTICES[notice],
        errors: form.errors ?? {},
        minPasswordLength: MIN_PASSWORD_LENGTH,
        csrf: csrf.token(ctx),
      };
      await views.render(ctx, 'account', locals, status);
    },
  };
}
