import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import type { z } from 'zod';

export class SecretFormatError extends Error {
  override readonly name = 'SecretFormatError';
}

/**
 * Reads a JSON secret from Secrets Manager and validates it. Powertools caches the value for
 * `maxAgeSeconds`, so a warm Lambda does not call Secrets Manager on every invocation.
 * Error messages name the secret and the bad fields, never the value.
 */
export const readJsonSecret = async <T>(
  secretId: string,
  schema: z.ZodType<T>,
  options: { maxAgeSeconds?: number; forceFetch?: boolean } = {},
): Promise<T> => {
  const raw = await getSecret(secretId, {
    maxAge: options.maxAgeSeconds ?? 300,
    forceFetch: options.forceFetch ?? false,
  });
  if (typeof raw !== 'string') {
    throw new SecretFormatError(`Secret ${secretId} has no SecretString; store it as JSON text.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new SecretFormatError(`Secret ${secretId} is not valid JSON; store it as a JSON object.`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    const fields = result.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new SecretFormatError(`Secret ${secretId} is missing or has invalid fields: ${fields}.`);
  }
  return result.data;
};
