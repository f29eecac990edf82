import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/**
 * How to reach Coder: the URL from the flag or CODER_URL; the token only from CODER_SESSION_TOKEN
 * or standard input (`--token-stdin`), never from a flag, which `ps` and the shell history show.
 */
export const CODER_OPTIONS = {
  'coder-url': { type: 'string' },
  'token-stdin': { type: 'boolean' },
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
    return parseArgs({
      args: joinNegativeValues(args, options),
      options,
      allowPositionals: false,
      strict: true,
    }).values;
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
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const name = option?.replace(/^--/, '') ?? '';
        const takesValue = (options as ParseArgsOptionsConfig)[name]?.type === 'string';
        throw new UsageError(
          takesValue
            ? `option ${option ?? ''} needs a value (one that starts with "-" goes as ${option ?? ''}=-VALUE)`
            : `option ${option ?? ''} does not take a value`,
          usage,
        );
      }
      default:
        throw new UsageError(message, usage);
    }
  }
};

/**
 * `--n -5` as `--n=-5`: node's parseArgs takes a value that starts with "-" for another flag
 * ("does not take a value"), so a negative number never reached the range check that names it.
 */
const joinNegativeValues = (args: readonly string[], options: ParseArgsOptionsConfig): string[] => {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
};

/** A whole number from a flag within [min, max], or a UsageError that gives the range. */
export const wholeNumber = (value: string, flag: string, usage: string, min: number, max: number): number => {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(
      `${flag} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got "${value}"`,
      usage,
    );
  }
  return n;
};

/** A calendar date YYYY-MM-DD from a flag (one that exists: not 2026-13-45 nor 2026-02-30), or a UsageError. */
export const calendarDate = (value: string, flag: string, usage: string): string => {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  const exists =
    match !== null &&
    parsed.getUTCFullYear() === year &&
    parsed.getUTCMonth() === month - 1 &&
    parsed.getUTCDate() === day;
  if (!exists) {
    throw new UsageError(
      `${flag} must be a date that exists, YYYY-MM-DD (e.g. 2026-03-09), got "${value}"`,
      usage,
    );
  }
  return value;
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
