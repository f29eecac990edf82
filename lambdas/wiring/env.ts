import type { z } from 'zod';

/** A configuration that does not validate; the message names every bad field and what is wrong with it. */
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
  const problems = result.error.issues.map((issue) => {
    const field = [prefix, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
      .filter(Boolean)
      .join('.')
      .replace(/\.\[/g, '[');
    return `${field || '(root)'}: ${issue.message}`;
  });
  throw new ConfigError(source, problems);
};

/** Reads a JSON environment variable the CDK construct wrote, validated with the same schema used at synth. */
export const configFromEnvironment = <S extends z.ZodType>(
  schema: S,
  variable: string,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> => {
  const raw = env[variable];
  if (raw === undefined) throw new ConfigError(`environment variable ${variable}`, ['is not set']);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError(`environment variable ${variable}`, ['is not valid JSON']);
  }
  return parseConfig(schema, value, `environment variable ${variable}`);
};

/** Reads a required plain environment variable with a message that says which one is missing. */
export const requireEnv = (variable: string, env: NodeJS.ProcessEnv = process.env): string => {
  const value = env[variable];
  if (!value) throw new ConfigError('Lambda environment', [`${variable} is not set`]);
  return value;
};
