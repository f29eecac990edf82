import { CoderClient, type User } from '../lambdas/adapters/coder/index.js';
import { UsageError } from './errors.js';
import type { CliIo, CliOutput } from './output.js';

export interface CoderTarget {
  readonly url: string;
  readonly token: string;
}

/**
 * The Coder URL and token from the flags or the environment (`CODER_URL`, `CODER_SESSION_TOKEN`,
 * the variables the coder CLI reads). The token is registered with the output for redaction
 * before anything else can print it.
 */
export const resolveCoderTarget = (
  values: { 'coder-url'?: string | undefined; token?: string | undefined },
  io: CliIo,
  out: CliOutput,
  command: string,
  usage: string,
  required = true,
): CoderTarget | undefined => {
  const token = values.token ?? io.env.CODER_SESSION_TOKEN;
  out.addSecret(token);
  const url = values['coder-url'] ?? io.env.CODER_URL;
  if (!url && !token && !required) return undefined;
  if (!url) throw new UsageError(`${command} needs Coder's URL: pass --coder-url or set CODER_URL`, usage);
  if (!token) {
    throw new UsageError(`${command} needs a Coder token: set CODER_SESSION_TOKEN (or pass --token)`, usage);
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

/** Proves the URL answers and the token is accepted before doing any work; errors say which. */
export const connectToCoder = async (
  client: CoderClient,
  target: CoderTarget,
  out: CliOutput,
): Promise<User> => {
  out.progress(`Connecting to Coder at ${target.url} …`);
  const me = await client.me();
  out.progress(`Connected as ${me.username}`);
  return me;
};
