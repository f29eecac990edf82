import { CoderApiError, CoderError, CoderNetworkError } from '../lambdas/adapters/coder/index.js';
import { ConfigError } from '../lambdas/core/contracts/validation.js';

/** The command line itself is wrong (unknown command or flag, missing value): exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The usage text of the command that was meant, shown after the message. */
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** The command ran and failed, with a message that says what to do: exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface ErrorContext {
  /** The Coder URL the command talked to, for "could not reach …". */
  readonly coderUrl?: string;
}

/** The one sentence for "no AWS credentials", whichever command and AWS service met it. */
export const NO_AWS_CREDENTIALS =
  'no AWS credentials found: configure them (aws configure, AWS_PROFILE or aws sso login) and retry';

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

const awsName = (error: unknown): string | undefined =>
  error instanceof Error && typeof (error as { name?: unknown }).name === 'string' ? error.name : undefined;

/**
 * Turns a failure into one sentence an operator can act on. Coder's client errors are already free
 * of the token; the caller still passes the text through CliOutput's redaction.
 */
export const explainError = (error: unknown, context: ErrorContext = {}): string => {
  const where = context.coderUrl ? ` at ${context.coderUrl}` : '';
  if (error instanceof CliError || error instanceof UsageError) return error.message;
  if (error instanceof CoderError) {
    switch (error.kind) {
      // Said once, here: the client's own message repeats "could not reach" and advice meant for the Lambdas.
      case 'network':
        return `could not reach Coder${where} (${error instanceof CoderNetworkError && error.code ? error.code : 'no connection'}, ${plural(error.attempts, 'attempt')}): check --coder-url / CODER_URL and the network`;
      case 'timeout':
        return `Coder${where} did not answer ${error.method} ${error.route} in time (${plural(error.attempts, 'attempt')}): check --coder-url / CODER_URL, the network and Coder's health`;
      case 'unauthorized':
        return `Coder rejected the token (401)${where}: check CODER_SESSION_TOKEN / --token-stdin (tokens expire; create one with \`coder tokens create\`)`;
      case 'forbidden':
        return `Coder refused the request (403)${where}: the token's user lacks a permission this command needs (${error.message})`;
      case 'response_shape':
        return `the server${where} answered, but not like a Coder v2 deployment: check --coder-url (${error.message})`;
      case 'rate_limited':
        return `Coder${where} kept rate-limiting the CLI: wait a minute and retry (${error.message})`;
      default:
        return error instanceof CoderApiError
          ? `${error.message}${where ? ` (Coder${where})` : ''}: check the names and permissions given, and Coder's own logs`
          : `Coder request failed: ${error.message}; check --coder-url and Coder's health, then retry`;
    }
  }
  if (error instanceof ConfigError) return `${error.message}\nfix the file given with --config`;
  const name = awsName(error);
  const message = error instanceof Error ? error.message : String(error);
  switch (name) {
    case 'CredentialsProviderError':
      return NO_AWS_CREDENTIALS;
    case 'ExpiredTokenException':
    case 'ExpiredToken':
      return `the AWS credentials have expired: refresh them (aws sso login) and retry`;
    case 'ResourceNotFoundException':
      return `AWS resource not found: ${message}; check the table or function name and AWS_REGION / --region`;
    case 'AccessDeniedException':
    case 'UnrecognizedClientException':
      return `AWS refused the request: ${message}; check the credentials' account and permissions`;
    default:
      if (/region is missing/i.test(message)) return 'no AWS region: set AWS_REGION or pass --region';
      return `${message}\nif this persists, report it with the command line and \`coder-fleet --version\``;
  }
};
