import type { z } from 'zod';
import { ConfigError, parseConfig } from '../core/contracts/validation.js';

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
