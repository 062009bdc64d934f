import Link from 'next/link';
import { getServerSession } from 'next-auth';
import { authOptions } from '@/auth';
import { signOut } from './actions';
import { SignInButton } from './sign-in-button';

export default async function Home() {
  const session = await getServerSession(authOptions);
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
