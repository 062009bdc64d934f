'use server';

import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { endSessionUrl, LatchError, updateMe } from '@/lib/latch';
import { readSession, sessionCookies } from '@/lib/session';

/** PATCH /api/v1/users/me with the new name, then back to the profile page, which reads it from Latch again. */
export async function updateName(form: FormData): Promise<void> {
  const cookieStore = await cookies();
  const token = await readSession(cookieStore);
  if (!token?.accessToken) redirect('/');
  let problem: string | undefined;
  try {
    const user = await updateMe(token.accessToken, { name: String(form.get('name') ?? '').trim() || null });
    // The session's copy of the name (from the ID token at sign-in) follows.
    for (const cookie of await sessionCookies({ ...token, name: user.name }, cookieStore)) cookieStore.set(cookie);
  } catch (error) {
    if (!(error instanceof LatchError)) throw error;
    problem = error.message;
  }
  redirect(problem ? `/profile?error=${encodeURIComponent(problem)}` : '/profile');
}

/** Ends the app's session first, then Latch's (RP-initiated logout), which sends the browser back here. */
export async function signOut(): Promise<void> {
  const cookieStore = await cookies();
  const token = await readSession(cookieStore);
  for (const cookie of await sessionCookies(null, cookieStore)) cookieStore.set(cookie);
  // NEXTAUTH_URL, exactly as registered with `--post-logout-redirect-uri`: Latch compares it character for character.
  const home = process.env.NEXTAUTH_URL ?? '/';
  redirect(token?.idToken ? await endSessionUrl(token.idToken, home) : home);
}
