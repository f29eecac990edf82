import type { z } from 'zod';

/** Where a zod issue points: `scaling.nodeGroups[1].minSize`, or `(root)`. */
export const issuePath = (issue: z.core.$ZodIssue, prefix = '', root = '(root)'): string =>
  [prefix, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
    .filter(Boolean)
    .join('.')
    .replace(/\.\[/g, '[') || root;

/**
 * Every issue as `field: message`, or only the fields with `fieldsOnly` (for secrets and Coder
 * bodies, whose messages could echo the value that failed).
 */
export const describeIssues = (
  error: z.ZodError,
  options: { prefix?: string; fieldsOnly?: boolean; root?: string } = {},
): string[] =>
  error.issues.map((issue) => {
    const where = issuePath(issue, options.prefix, options.root);
    return options.fieldsOnly ? where : `${where}: ${issue.message}`;
  });

/** A configuration or event that does not validate; the message names every bad field and what is wrong. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Parses a value with a zod schema and throws a ConfigError naming each bad field
 * (`scaling.nodeGroups[1].profiles.peak.minSize: Too small: expected number to be >=0`).
 * Used at synth (so `cdk synth` fails on a bad config) and at Lambda start (env parsed once).
 */
export const parseConfig = <S extends z.ZodType>(
  schema: S,
  value: unknown,
  source: string,
  prefix = '',
): z.output<S> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ConfigError(source, describeIssues(result.error, { prefix }));
};
