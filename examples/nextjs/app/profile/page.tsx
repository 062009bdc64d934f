import Link from 'next/link';
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { getMe, LatchError, type LatchUser } from '@/lib/latch';
import { readSession } from '@/lib/session';
import { updateName } from '../actions';

/** The account as Latch's REST API has it, read with the user's access token (renewed by proxy.ts when it expires). */
export default async function Profile({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  const token = await readSession(await cookies());
  if (!token?.accessToken) redirect('/');
  const { error } = await searchParams;

  let user: LatchUser;
  try {
    user = await getMe(token.accessToken);
  } catch (problem) {
    if (!(problem instanceof LatchError)) throw problem;
    return (
      <>
        <h1>Your profile at Latch</h1>
        <p className="alert">Latch refused the request: {problem.message}</p>
        <Link href="/">Back</Link>
      </>
    );
  }

  const expiresAt = new Date((token.expiresAt ?? 0) * 1000);
  return (
    <>
      <h1>Your profile at Latch</h1>
      <dl>
        <dt>Name</dt>
        <dd id="name">{user.name}</dd>
        <dt>Email</dt>
        <dd id="email">{user.email}</dd>
      </dl>
      {error && <p className="alert">{error}</p>}
      <form action={updateName}>
        <label>
          Name
          <input name="name" defaultValue={user.name ?? ''} autoComplete="name" />
        </label>
        <button type="submit">Save</button>
      </form>
      <p className="muted">
        Read from <code>GET /api/v1/users/me</code> with an access token valid until{' '}
        <time dateTime={expiresAt.toISOString()}>{expiresAt.toLocaleTimeString('en-GB', { timeZone: 'UTC' })} UTC</time>.
      </p>
      <p>
        <Link href="/" prefetch={false}>
          Back
        </Link>
      </p>
    </>
  );
}
