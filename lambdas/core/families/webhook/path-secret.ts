import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * The webhook secret (`WEBHOOK_SECRET_ARN`). `previousPathSecret` keeps the old URL working while
 * Coder's endpoint setting is being switched to a new one.
 */
export const webhookSecretSchema = z.object({
  pathSecret: z.string().min(32),
  previousPathSecret: z.string().min(32).optional(),
});

export type WebhookRoute = 'notification' | 'audit';

export type PathMatch =
  | { readonly kind: 'route'; readonly route: WebhookRoute }
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'not-found' };

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Constant-time comparison of a presented secret with the expected ones. Both sides are hashed
 * first so the buffers always have equal length (timingSafeEqual requires it) and the time taken
 * says nothing about the secret's length or any prefix. Every expected secret is compared, with
 * no early exit, so which one matched does not show either.
 */
export const secretMatches = (presented: string, expected: readonly string[]): boolean => {
  const presentedDigest = digest(presented);
  let matched = false;
  for (const secret of expected) {
    if (secret.length === 0) continue;
    matched = timingSafeEqual(presentedDigest, digest(secret)) || matched;
  }
  return matched;
};

/**
 * Routes a Function URL path: `/<secret>` receives notifications, `/<secret>/audit` receives
 * forwarded audit entries (a trailing slash is tolerated). Anything without the secret as its
 * first segment is unauthorized, whatever follows, so nothing about the routes leaks to callers
 * who lack it.
 */
export const matchWebhookPath = (rawPath: string, secrets: readonly string[]): PathMatch => {
  const segments = rawPath.split('/').filter((segment) => segment !== '');
  const [presented, ...rest] = segments;
  if (presented === undefined || !secretMatches(presented, secrets)) return { kind: 'unauthorized' };
  if (rest.length === 0) return { kind: 'route', route: 'notification' };
  if (rest.length === 1 && rest[0] === 'audit') return { kind: 'route', route: 'audit' };
  return { kind: 'not-found' };
};
