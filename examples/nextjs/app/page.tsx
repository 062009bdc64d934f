import Link from 'next/link';
import { cookies } from 'next/headers';
import { getServerSession } from 'next-auth';
import { authOptions } from '@/auth';
import { readSession } from '@/lib/session';
import { signOut } from './actions';
import { SignInButton } from './sign-in-button';

export default async function Home() {
  const session = await getServerSession(authOptions);
  const token = await readSession(await cookies());
  if (!session?.user) {
    return (
      <>
        <h1>Signed out</h1>
        <p>This app signs its users in with Latch.</p>
        <SignInButton />
      </>
    );
  }
  return (
    <>
      <h1>Signed in</h1>
      <dl>
        <dt>Name</dt>
        <dd>{session.user.name}</dd>
        <dt>Email</dt>
        <dd>{session.user.email}</dd>
        {token?.amr && (
          <>
            <dt>Signed in with</dt>
            <dd id="amr">{token.amr.join(' ')}</dd>
          </>
        )}
      </dl>
      <p>
        <Link href="/profile" prefetch={false}>
          Your profile at Latch
        </Link>
      </p>
      <form action={signOut}>
        <button type="submit">Sign out</button>
      </form>
    </>
  );
}
