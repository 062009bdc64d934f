'use client';

import { signIn } from 'next-auth/react';

/** NextAuth starts the authorization code flow (with PKCE and state) and comes back to this page. */
export function SignInButton() {
  return (
    <button type="button" onClick={() => void signIn('latch')}>
      Sign in with Latch
    </button>
  );
}
