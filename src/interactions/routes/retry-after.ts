import type { Context } from 'koa';

/** "Try again in N minutes": rounded up, so nobody is told a time at which they are still refused. */
export function inMinutes(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

export function setRetryAfter(ctx: Context, seconds: number): void {
  ctx.set('Retry-After', String(seconds));
}
