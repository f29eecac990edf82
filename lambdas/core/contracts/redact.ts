/**
 * Secret scrubbing for every text that leaves the controller (errors, logs, the CLI's output).
 * Redaction must happen before truncation: cutting first can split a secret so that an exact
 * match no longer finds it, and the excerpt then carries most of it.
 */

export const REDACTED = '[redacted]';

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Replaces every occurrence of each secret in `text`, ignoring case (a proxy or a log line that
 * lower- or upper-cases a token echoes it all the same).
 */
export const redactSecrets = (text: string, secrets: Iterable<string>): string => {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.replace(new RegExp(escapeRegExp(secret), 'gi'), REDACTED);
  }
  return out;
};

/** Redacts, then keeps at most `maxLength` characters: the only safe order for an excerpt. */
export const redactThenTruncate = (text: string, secrets: Iterable<string>, maxLength: number): string =>
  redactSecrets(text, secrets).slice(0, maxLength);
