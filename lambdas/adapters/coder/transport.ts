/**
 * How the client sends one Coder request: authentication, pacing keyed as Coder's limiter keys
 * (concrete path, method ignored) plus an optional budget shared by every Lambda of a deployment,
 * per-attempt timeouts, retries with backoff (honouring 429 Retry-After), the run's deadline,
 * counters, and a typed CoderError for a timeout or network failure. What an answer means is answers.ts.
 */
import type { z } from 'zod';
import type { Deadline } from '../../core/contracts/deadline.js';
import { apiError, parseAnswer, type RawAnswer } from './answers.js';
import { CoderDeadlineError, type DeadlineStep } from './deadline.js';
import { CoderNetworkError, CoderTimeoutError, type ErrorSubject, redact } from './errors.js';
import { RouteRateLimiter } from './rate-limiter.js';
import {
  type AttemptFailure,
  DEFAULT_RETRY,
  decideRetry,
  parseRetryAfterMs,
  type RetryOptions,
} from './retry.js';
import { type CoderRoute, expandPath, type Query, queryString } from './routes.js';

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface CoderRequestEvent {
  method: string;
  /** The swagger path template, never the concrete URL. */
  route: string;
  status: number | 'network-error' | 'timeout';
  durationMs: number;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface CoderClientStats {
  /** HTTP attempts made, including retries. */
  requests: number;
  retries: number;
  /** 429 answers received (including ones later retried successfully). */
  rateLimited: number;
  timeouts: number;
  networkErrors: number;
  /** Sum of every attempt's duration, for the average latency per run. */
  durationMsTotal: number;
  /** Attempts per `"<METHOD> <route template>"`. */
  byRoute: Record<string, number>;
}

/** Counters of a client that has sent nothing yet. */
export const emptyCoderClientStats = (): CoderClientStats => ({
  requests: 0,
  retries: 0,
  rateLimited: 0,
  timeouts: 0,
  networkErrors: 0,
  durationMsTotal: 0,
  byRoute: {},
});

export interface CoderClientOptions {
  /** Coder's access URL, e.g. `https://coder.example.com`. */
  baseUrl: string;
  /** The session token, or a provider (e.g. a cached Secrets Manager read) called once per request. */
  token: string | (() => Promise<string>);
  /** Per-attempt timeout covering the whole answer, body included. @default 10000 */
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /**
   * Client-side budget per concrete URL path per window, method ignored, as Coder's limiter keys
   * (coderd/httpmw/ratelimit.go: httprate.KeyByEndpoint is `r.URL.Path`); `false` disables pacing.
   * @default 480 (a little below Coder's 512 per user, or per client address, per path per minute)
   */
  rateLimitPerMinute?: number | false;
  /**
   * A request budget shared with every other Lambda of the deployment (one token, one egress
   * address: one Coder budget). Taken before each request, after the per-path pacing.
   */
  sharedBudget?: SharedRequestBudget;
  /** The least time left worth sending a request with. @default 250 */
  sendAllowanceMs?: number;
  /** The limiter's window; only tests shorten it. @default 60000 */
  rateLimitWindowMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1), for backoff jitter. */
  random?: () => number;
  /** Epoch milliseconds. */
  now?: () => number;
  /** Called after every HTTP attempt, for metrics. Exceptions it throws are ignored. */
  onRequest?: (event: CoderRequestEvent) => void;
  /** Sent as User-Agent. @default 'coder-fleet-controller' */
  userAgent?: string;
}

/** Slots from a budget several processes share (see adapters/aws/coder-request-budget.ts). */
export interface SharedRequestBudget {
  /**
   * Reserves one request slot and returns how long (ms) the caller must wait before using it, or
   * undefined when the slot would come later than `maxWaitMs` (nothing is reserved then).
   */
  reserve(maxWaitMs: number): Promise<number | undefined>;
}

/** Options every mutating call accepts. */
export interface MutationOptions {
  /**
   * The caller knows repeating this request is harmless (it will reconcile a duplicate effect),
   * so network errors, timeouts and 5xx may be retried like a GET.
   */
  idempotent?: boolean;
  signal?: AbortSignal;
  /** The run's deadline: the call never waits (pacing, Retry-After, backoff) or sends past it. */
  deadline?: Deadline | undefined;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /**
   * The run's deadline: the call never waits (pacing, Retry-After, backoff) or sends past it, and
   * throws CoderDeadlineError (kind `deadline`) instead.
   */
  deadline?: Deadline | undefined;
}

/** One request as an operation describes it; the transport does the rest. */
export interface RequestSpec<T> {
  method: HttpMethod;
  route: CoderRoute;
  params?: Record<string, string>;
  query?: Query;
  body?: unknown;
  /** Undefined when the answer has no body worth reading (204). */
  schema?: z.ZodType<T>;
  /** Repeating after an ambiguous failure cannot double an effect. GET is always safe. */
  safeToRepeat?: boolean;
  /** Creates a named resource, so a conflict means "already exists". */
  isCreate?: boolean;
  wording?: ErrorSubject;
  /** Authenticate with this header instead of the session token. */
  authHeader?: { name: string; value: string };
  signal?: AbortSignal | undefined;
  /** The calling run's deadline (from the operation's options). */
  deadline?: Deadline | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RATE_LIMIT = 480;
const DEFAULT_SEND_ALLOWANCE_MS = 250;

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The time left of the call's deadline (the calling run's); a call without one has all the time. */
const remainingOf = (deadline: Deadline | undefined): number =>
  deadline ? deadline.remainingMs() : Number.POSITIVE_INFINITY;

export class CoderTransport {
  private readonly baseUrl: string;
  private readonly origin: string;
  private readonly token: string | (() => Promise<string>);
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly limiter: RouteRateLimiter | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly onRequest: ((event: CoderRequestEvent) => void) | undefined;
  private readonly userAgent: string;
  private readonly counters: Omit<CoderClientStats, 'byRoute'> = emptyCoderClientStats();
  private readonly routeCounts = new Map<string, number>();
  private readonly sharedBudget: SharedRequestBudget | undefined;
  private readonly sendAllowanceMs: number;

  constructor(options: CoderClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.username || url.password || url.search || url.hash) {
      throw new TypeError('Coder baseUrl must be a plain URL without credentials, query or fragment');
    }
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.origin = url.origin;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchImpl = options.fetch ?? fetch;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.onRequest = options.onRequest;
    this.userAgent = options.userAgent ?? 'coder-fleet-controller';
    this.sharedBudget = options.sharedBudget;
    this.sendAllowanceMs = options.sendAllowanceMs ?? DEFAULT_SEND_ALLOWANCE_MS;
    const perWindow = options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT;
    this.limiter =
      perWindow === false
        ? undefined
        : new RouteRateLimiter({
            limit: perWindow,
            windowMs: options.rateLimitWindowMs ?? 60_000,
            now: this.now,
            sleep: this.sleep,
          });
  }

  /** Counts since construction; a copy, safe to keep. */
  stats(): CoderClientStats {
    return { ...this.counters, byRoute: Object.fromEntries(this.routeCounts) };
  }

  /** Sends one request, retrying what is safe to retry; the parsed body, or undefined without a schema. */
  call<T>(spec: RequestSpec<T> & { schema: z.ZodType<T> }): Promise<T>;
  call(spec: RequestSpec<undefined>): Promise<undefined>;
  async call<T>(spec: RequestSpec<T>): Promise<T | undefined> {
    const secret = spec.authHeader
      ? spec.authHeader.value
      : typeof this.token === 'string'
        ? this.token
        : await this.token();
    const secrets = [secret];
    const path = expandPath(spec.route, spec.params ?? {});
    const url = `${this.baseUrl}${path}${queryString(spec.query)}`;
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent };
    if (spec.authHeader) headers[spec.authHeader.name] = secret;
    else headers['Coder-Session-Token'] = secret;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['Content-Type'] = 'application/json';
    }
    const safeToRepeat = spec.method === 'GET' || spec.safeToRepeat === true;
    const remainingMs = (): number => remainingOf(spec.deadline);
    const routeKey = `${spec.method} ${spec.route}`;
    // An earlier attempt may have taken effect (a mutation that timed out or got a 5xx).
    let mayHaveTakenEffect = false;
    const stop = (step: DeadlineStep, attempts: number, waitMs?: number): CoderDeadlineError =>
      new CoderDeadlineError(
        `Out of time for ${routeKey}: ${waitMs === undefined ? 'no time left to send it' : `it would wait ${Math.round(waitMs)} ms for ${step}`} (${Math.max(0, Math.round(remainingMs()))} ms left in this run); the next run picks it up`,
        { method: spec.method, route: spec.route, attempts, step, waitMs, mayHaveTakenEffect },
      );

    for (let attempt = 1; ; attempt++) {
      if (remainingMs() < this.sendAllowanceMs) throw stop('send', attempt - 1);
      // Awaited only when there is a wait, so an unpaced call reaches fetch in the same tick.
      const paced = this.pace(path, remainingMs, (step, waitMs) => stop(step, attempt - 1, waitMs));
      if (paced) await paced;
      if (remainingMs() < this.sendAllowanceMs) throw stop('send', attempt - 1);
      const outcome = await this.attempt(spec, url, headers, body, attempt, routeKey, remainingMs());
      if (outcome.type === 'deadline') {
        mayHaveTakenEffect ||= spec.method !== 'GET';
        throw stop('answer', attempt);
      }

      let failure: AttemptFailure;
      let toThrow: Error;
      if (outcome.type === 'answer') {
        const answer = outcome.answer;
        if (answer.status >= 200 && answer.status < 300) return parseAnswer(spec, answer, attempt, secrets);
        const error = apiError(spec, answer, attempt, secrets);
        toThrow = error;
        if (error.kind === 'rate_limited') {
          const retryAfterMs = parseRetryAfterMs(answer.headers.get('retry-after'), this.now());
          if (retryAfterMs !== undefined) this.limiter?.blockUntil(path, this.now() + retryAfterMs);
          failure = { type: 'rate_limited', retryAfterMs };
        } else if (error.kind === 'server') {
          failure = { type: 'ambiguous' };
        } else {
          failure = { type: 'final' };
        }
      } else {
        toThrow = this.transportError(spec, outcome, attempt, secrets);
        failure = { type: 'ambiguous' };
      }
      if (failure.type === 'ambiguous' && spec.method !== 'GET') mayHaveTakenEffect = true;

      const decision = decideRetry({
        failure,
        attempt,
        safeToRepeat,
        options: this.retry,
        random: this.random,
      });
      if (!decision.retry) {
        // A Retry-After beyond what the client will ever wait, but within the run: a 429 as before.
        throw toThrow;
      }
      if (decision.delayMs > 0 && decision.delayMs > remainingMs() - this.sendAllowanceMs) {
        // Never sleep past the deadline (a 60 s Retry-After with 20 s left): stop, report, resume next run.
        throw stop(failure.type === 'rate_limited' ? 'retry-after' : 'backoff', attempt, decision.delayMs);
      }
      this.counters.retries++;
      if (decision.delayMs > 0) await this.sleep(decision.delayMs);
    }
  }

  /**
   * Reserves the path's pacing slot and a shared-budget slot, never past the deadline; a promise
   * to await when there is a wait (or a shared budget to ask), undefined when the request may go now.
   */
  private pace(
    path: string,
    remainingMs: () => number,
    stop: (step: DeadlineStep, waitMs: number) => CoderDeadlineError,
  ): Promise<void> | undefined {
    const maxWait = () => remainingMs() - this.sendAllowanceMs;
    let wait = 0;
    if (this.limiter) {
      const local = this.limiter.tryReserve(path, maxWait());
      if (local === undefined) throw stop('pacing', this.limiter.waitFor(path));
      wait = local;
    }
    const budget = this.sharedBudget;
    if (!budget) return wait > 0 ? this.sleep(wait) : undefined;
    return budget.reserve(maxWait()).then((shared) => {
      if (shared === undefined) throw stop('pacing', maxWait());
      const longest = Math.max(wait, shared);
      return longest > 0 ? this.sleep(longest) : undefined;
    });
  }

  private async attempt(
    spec: RequestSpec<unknown>,
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    attempt: number,
    routeKey: string,
    left: number,
  ): Promise<
    | { type: 'answer'; answer: RawAnswer }
    | { type: 'timeout' }
    | { type: 'deadline' }
    | { type: 'network'; code: string | undefined; message: string }
  > {
    this.counters.requests++;
    this.routeCounts.set(routeKey, (this.routeCounts.get(routeKey) ?? 0) + 1);
    // The attempt may not outlive the run: past the deadline its answer is not waited for.
    const cutByDeadline = left < this.timeoutMs;
    const timeout = AbortSignal.timeout(Math.max(1, Math.floor(Math.min(this.timeoutMs, left))));
    const signal = spec.signal ? AbortSignal.any([timeout, spec.signal]) : timeout;
    const started = this.now();
    const emit = (status: CoderRequestEvent['status']) =>
      this.emit({
        method: spec.method,
        route: spec.route,
        status,
        durationMs: this.now() - started,
        attempt,
      });
    // Racing the signal as well guards against a fetch (or body stream) that ignores it.
    let stopListening = () => {};
    const aborted = new Promise<never>((_, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      stopListening = () => signal.removeEventListener('abort', onAbort);
    });
    try {
      const response = await Promise.race([
        this.fetchImpl(url, { method: spec.method, headers, body, signal, redirect: 'error' }),
        aborted,
      ]);
      // Reading the body stays under the same signal, so a stalled body also times out.
      const text = await Promise.race([response.text(), aborted]);
      if (response.status === 429) this.counters.rateLimited++;
      emit(response.status);
      return { type: 'answer', answer: { status: response.status, headers: response.headers, text } };
    } catch (error) {
      if (spec.signal?.aborted && !timeout.aborted) throw spec.signal.reason;
      if (timeout.aborted) {
        emit('timeout');
        if (cutByDeadline) return { type: 'deadline' };
        this.counters.timeouts++;
        return { type: 'timeout' };
      }
      this.counters.networkErrors++;
      emit('network-error');
      return { type: 'network', ...describeNetworkFailure(error) };
    } finally {
      stopListening();
    }
  }

  private emit(event: CoderRequestEvent): void {
    this.counters.durationMsTotal += event.durationMs;
    try {
      this.onRequest?.(event);
    } catch {
      // Metrics must never break a Coder call.
    }
  }

  private transportError(
    spec: RequestSpec<unknown>,
    outcome: { type: 'timeout' } | { type: 'network'; code: string | undefined; message: string },
    attempts: number,
    secrets: string[],
  ): Error {
    const base = { method: spec.method, route: spec.route, attempts };
    const call = `${spec.method} ${spec.route}`;
    if (outcome.type === 'timeout') {
      const effect =
        spec.isCreate || spec.method !== 'GET'
          ? ' it may still have taken effect, so read back before repeating it;'
          : '';
      return new CoderTimeoutError(
        `Coder did not answer ${call} within ${this.timeoutMs} ms (attempt ${attempts});${effect} check Coder's health or raise timeoutMs`,
        { ...base, timeoutMs: this.timeoutMs },
      );
    }
    const code = outcome.code ? ` (${outcome.code})` : '';
    return new CoderNetworkError(
      redact(
        `Could not reach Coder at ${this.origin} for ${call}: ${outcome.message}${code} after ${attempts} attempt(s); check the Coder URL and network access`,
        secrets,
      ),
      { ...base, code: outcome.code },
    );
  }
}

/** undici reports "fetch failed" with the real reason in `cause`; keep only its code and text. */
const describeNetworkFailure = (error: unknown): { code: string | undefined; message: string } => {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string'
      ? cause.code
      : undefined;
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code, message };
};
