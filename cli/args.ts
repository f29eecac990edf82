import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** How to reach Coder; each falls back to the environment variable the coder CLI also reads. */
export const CODER_OPTIONS = {
  'coder-url': { type: 'string' },
  token: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

export const AWS_OPTIONS = {
  region: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

/** Every flag of a command as typed: `--name` and `-x`. */
const flagsOf = (options: ParseArgsOptionsConfig): string[] =>
  Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);

const optionIn = (message: string): string | undefined => /'(-{1,2}[^' ]+)/.exec(message)?.[1];

/** Parses one command's flags strictly; anything unexpected is a UsageError naming it. */
export const parseCommandArgs = <const O extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: O,
  command: string,
  usage: string,
) => {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: false, strict: true }).values;
  } catch (error) {
    const code = (error as { code?: string }).code;
    const message = error instanceof Error ? error.message : String(error);
    const option = optionIn(message);
    switch (code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new UsageError(
          `unknown option ${option ?? message} for "${command}"${option ? didYouMean(option, flagsOf(options)) : ''}`,
          usage,
        );
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(
          `unexpected argument ${/'([^']*)'/.exec(message)?.[1] ?? ''} for "${command}"`.replace(
            / +for/,
            ' for',
          ),
          usage,
        );
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
        throw new UsageError(
          message.includes('argument missing')
            ? `option ${option ?? ''} needs a value`
            : `option ${option ?? ''} does not take a value`,
          usage,
        );
      default:
        throw new UsageError(message, usage);
    }
  }
};

/** A whole positive number from a flag, or a UsageError. */
export const positiveInt = (value: string, flag: string, usage: string, max?: number): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || (max !== undefined && n > max)) {
    throw new UsageError(
      `${flag} must be a whole number from 1${max !== undefined ? ` to ${max}` : ''}, got "${value}"`,
      usage,
    );
  }
  return n;
};

/** An instant from a flag: ISO 8601 with a zone, or `now`. */
export const instant = (value: string, flag: string, usage: string): Date => {
  if (value === 'now') return new Date();
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value);
  const at = new Date(value);
  if (!ok || Number.isNaN(at.getTime())) {
    throw new UsageError(
      `${flag} must be an ISO 8601 time with a zone, e.g. 2026-03-09T06:45:00-05:00 or 2026-03-09T11:45:00Z; got "${value}"`,
      usage,
    );
  }
  return at;
};
