import {
  CoderApiError,
  CoderClient,
  CoderResponseShapeError,
  type User,
} from '../lambdas/adapters/coder/index.js';
import { CliError, UsageError } from './errors.js';
import type { CliIo, CliOutput } from './output.js';

export interface CoderTarget {
  readonly url: string;
  readonly token: string;
}

/**
 * The Coder URL (flag or `CODER_URL`) and token (`CODER_SESSION_TOKEN`, the variables the coder
 * CLI reads, or standard input with `--token-stdin`; never a flag, which `ps` and the shell history
 * show). The token is registered with the output for redaction before anything else can print it.
 */
export const resolveCoderTarget = async (
  values: { 'coder-url'?: string | undefined; 'token-stdin'?: boolean | undefined },
  io: CliIo,
  out: CliOutput,
  command: string,
  usage: string,
  required = true,
): Promise<CoderTarget | undefined> => {
  let token = io.env.CODER_SESSION_TOKEN;
  if (values['token-stdin']) {
    if (!io.readStdin) throw new UsageError('--token-stdin: this process has no standard input', usage);
    const text = await io.readStdin();
    out.addSecret(text.trim());
    token = text.trim();
    if (!token) {
      throw new UsageError(
        '--token-stdin read no token from standard input: pipe one in, e.g. `printf %s "$TOKEN" | coder-fleet … --token-stdin`',
        usage,
      );
    }
    if (/\s/.test(token))
      throw new UsageError('--token-stdin read more than one line or word: pipe the token alone', usage);
  }
  out.addSecret(token);
  const url = values['coder-url'] ?? io.env.CODER_URL;
  if (!url && !token && !required) return undefined;
  if (!url) throw new UsageError(`${command} needs Coder's URL: pass --coder-url or set CODER_URL`, usage);
  if (!token) {
    throw new UsageError(
      `${command} needs a Coder token: set CODER_SESSION_TOKEN, or pipe it in with --token-stdin`,
      usage,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--coder-url "${url}" is not a URL; e.g. https://coder.example.com`, usage);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UsageError(`--coder-url must be an http(s) URL, got "${url}"`, usage);
  }
  if (parsed.username || parsed.password || parsed.search || parsed.hash) {
    throw new UsageError('--coder-url must be a plain URL without credentials, query or fragment', usage);
  }
  // The API's own base (`…/api/v2`, as copied from Coder's docs or swagger) means the deployment.
  return { url: parsed.href.replace(/\/+$/, '').replace(/\/api\/v2$/i, ''), token };
};

/** A client for CLI use: a few quick retries (a person is waiting), Coder's rate budget kept. */
export const createCliCoderClient = (target: CoderTarget): CoderClient =>
  new CoderClient({
    baseUrl: target.url,
    token: target.token,
    timeoutMs: 15_000,
    retry: { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 },
    userAgent: 'coder-fleet-cli',
  });

/** A server that answers, but not as Coder does: `--coder-url` points somewhere else. */
const notCoder = (error: unknown): error is CoderApiError | CoderResponseShapeError =>
  error instanceof CoderResponseShapeError ||
  (error instanceof CoderApiError && [400, 404, 405, 410].includes(error.status));

/**
 * Proves the URL is a Coder deployment (its `/api/v2/buildinfo`, which every Coder answers without
 * a token) and that the token is accepted, before doing any work; errors say which.
 */
export const connectToCoder = async (
  client: CoderClient,
  target: CoderTarget,
  out: CliOutput,
): Promise<User> => {
  out.progress(`Connecting to Coder at ${target.url} …`);
  let version: string;
  try {
    version = (await client.buildInfo()).version;
  } catch (error) {
    if (!notCoder(error)) throw error;
    const answer =
      error instanceof CoderApiError
        ? `answered ${error.status}`
        : `answered ${error.status}, but not with Coder's build information`;
    throw new CliError(
      `the server at ${target.url} is not a Coder deployment: GET /api/v2/buildinfo, which every Coder answers, ${answer}; check --coder-url / CODER_URL (Coder's access URL, as in the browser)`,
    );
  }
  const me = await client.me();
  out.progress(`Connected as ${me.username} (Coder ${version})`);
  return me;
};
