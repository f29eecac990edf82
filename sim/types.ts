/** Public types of the Coder API simulator. */
import type { SimClock } from './clock.js';
import type { PeopleOptions, PeopleStream } from './people.js';
import type { SimProfile, SimProfileName } from './profiles/index.js';
import type { JobDuration } from './provisioning/durations.js';
import type { SimJobView } from './provisioning/queue.js';
import type { RateLimitKeyBy } from './rate-limit.js';

export type { PeopleFigures, PeopleOptions, PeopleStream, PersonJob } from './people.js';
export type { JobDuration } from './provisioning/durations.js';
export type { SimJobView } from './provisioning/queue.js';
export type { RateLimitKeyBy } from './rate-limit.js';

/** Daemons started from one key (or the PSK with their own tags): a provisioner node group. */
export interface DaemonPoolSpec {
  /** Daemons are named `<name>-<n>`. */
  name: string;
  /** @default the default organization */
  organization?: string;
  /** Tags the daemons start with (PSK daemons set their own); ignored with `keyName`. @default untagged */
  tags?: Record<string, string>;
  /** Connect with this provisioner key and take its tags. @default the PSK */
  keyName?: string;
  /** Daemons running; 0 models a node group scaled to zero. */
  count: number;
}

/**
 * The provisioner queue (sim/provisioning/queue.ts): jobs wait for a daemon whose tags match, each
 * daemon runs one job at a time. Without it, every job runs on a timer of `buildDurationMs`.
 */
export interface ProvisionerQueueOptions {
  /** How long a job runs, in simulated time. @default { kind: 'fixed', ms: 60000 } */
  jobDuration?: JobDuration;
  /** Seed of the duration draws. @default 1 */
  seed?: number;
  /** Pools started with the simulator. @default none: every job waits until one is added */
  pools?: DaemonPoolSpec[];
}

export interface CoderSimulatorOptions {
  /** @default 0 (ephemeral). The server binds 127.0.0.1 only. */
  port?: number;
  /**
   * Time a build job takes from pending through running to succeeded, in real ms, when jobs run on
   * timers (no `provisioners`). @default 100
   */
  buildDurationMs?: number;
  /**
   * Run builds through Coder's provisioner queue instead of timers. Opt-in: the simulator's other
   * users (tests, the demo, the older benchmarks) rely on builds finishing without any daemon.
   */
  provisioners?: ProvisionerQueueOptions;
  /**
   * Simulated milliseconds per real millisecond for everything the simulated Coder times: job
   * durations, timestamps, daemons' heartbeats, the rate-limit window, people's arrivals.
   * `clock.advance()` jumps it forward. @default 1
   */
  timeScale?: number;
  /** Simulated epoch ms the clock starts at. @default now */
  startTime?: number;
  /**
   * The Coder release to behave as (sim/profiles): buildinfo, query parameters, notification
   * payloads and rate-limit keying follow it; `DISAGREEING_PROFILE_NAMES` are builds whose buildinfo
   * and answers disagree with the controller's release table. @default '2.37' (the newest the
   * swagger describes)
   */
  coderVersion?: SimProfileName;
  /**
   * Coder's per-route sliding window (httprate). `false` disables it, like
   * `CODER_API_RATE_LIMIT=0`. `keyBy` defaults to the release profile's (user from
   * coder/coder#22049 on, client address before). @default { perMinute: 512, windowMs: 60000 }
   */
  rateLimit?: { perMinute: number; windowMs?: number; keyBy?: RateLimitKeyBy } | false;
  /** When set, notifications are POSTed here like `CODER_NOTIFICATIONS_METHOD=webhook`. */
  webhookUrl?: string;
  /** Retry policy for webhook deliveries. @default { attempts: 5, intervalMs: 50, timeoutMs: 2000 } */
  webhookRetry?: { attempts?: number; intervalMs?: number; timeoutMs?: number };
  faults?: FaultConfig;
  /** Record every exchange for `exchanges()`. Turn off for benchmarks. @default true */
  record?: boolean;
  /** Most recent exchanges kept when recording. @default 2000 */
  recordLimit?: number;
  /**
   * Gap between the create-workspace uniqueness check and the insert, during which a racing create
   * for the same owner and name slips through and then hits the unique index (500). @default 0
   * (one event-loop turn)
   */
  createRaceWindowMs?: number;
  /** External URL used in notification action links and buildinfo. @default the simulator's URL */
  accessUrl?: string;
  /**
   * coderd's built-in provisioner daemons listed when builds run on timers (`CODER_PROVISIONER_DAEMONS`,
   * cli/server.go: 3 by default; 0 for a deployment of external provisioners only). Ignored with
   * `provisioners`, whose pools are the daemons. @default 3
   */
  builtInProvisioners?: number;
  /** Owners may rename workspaces (`CODER_ALLOW_WORKSPACE_RENAMES`). @default false, as in Coder */
  allowWorkspaceRenames?: boolean;
}

export interface FaultConfig {
  /** Added to every request. */
  latencyMs?: number;
  /** 0..1 chance of a 500/502/503 before the handler runs (no side effect). */
  errorRate?: number;
  /** 0..1 chance of a 500 after a mutating handler ran: the side effect happened, the client sees a failure. */
  errorAfterEffectRate?: number;
  /** 0..1 chance the server never answers; the socket is held until the client gives up or close(). */
  timeoutRate?: number;
  /** The next N requests get 429 with Retry-After. */
  rateLimitBurst?: number;
  /** Retry-After seconds sent with the injected burst. @default 1 */
  rateLimitBurstRetryAfterSeconds?: number;
  /** Only apply faults to these route keys, e.g. 'POST /api/v2/users/{user}/workspaces'. */
  routes?: string[];
  /** Seed of the PRNG that decides the rates, for repeatable runs. */
  seed?: number;
}

export interface RecordedExchange {
  method: string;
  /** Path with query string, as requested. */
  path: string;
  /** Swagger path template, e.g. '/api/v2/workspaces/{workspace}'; undefined when no route matched. */
  route: string | undefined;
  status: number;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
  /** Why the response did not come from the handler, when a fault or a middleware answered. */
  answeredBy: 'handler' | 'fault' | 'rate-limit' | 'auth' | 'router' | 'body';
}

export interface SimRichParameterOption {
  name: string;
  value: string;
  description?: string;
  icon?: string;
}

export interface SimRichParameter {
  name: string;
  displayName?: string;
  description?: string;
  /** @default 'string' */
  type?: 'string' | 'number' | 'bool' | 'list(string)';
  /** A parameter without a default is required, as in Coder. */
  defaultValue?: string;
  /** @default true */
  mutable?: boolean;
  /** @default false */
  ephemeral?: boolean;
  options?: SimRichParameterOption[];
  validationRegex?: string;
  validationError?: string;
  validationMin?: number;
  validationMax?: number;
}

export interface SimWorkspaceView {
  id: string;
  name: string;
  ownerName: string;
  organizationName: string;
  templateName: string;
  parameters: Record<string, string>;
  status: WorkspaceStatus;
  deleted: boolean;
  latestBuildId: string;
  latestBuildNumber: number;
  autostartSchedule: string | undefined;
  nextStartAt: string | null;
}

export interface WebhookDelivery {
  msgId: string;
  status: number | 'error';
  notificationName: string;
  /** 1-based attempt number; a retried message has one entry per attempt. */
  attempt: number;
}

export interface SimulatorSeeder {
  /** `id` fixes the user's UUID (e.g. the prebuilds system user's); a random one otherwise. */
  user(u: { username: string; email?: string; roles?: string[]; organizations?: string[]; id?: string }): {
    id: string;
    username: string;
    token: string;
  };
  organization(o: { name: string; isDefault?: boolean }): { id: string; name: string };
  template(t: {
    name: string;
    organization?: string;
    parameters?: SimRichParameter[];
    allowUserAutostart?: boolean;
    displayName?: string;
    defaultTtlMs?: number;
    /**
     * Tags of the active version's import job, which every build job of the template inherits
     * (`coder templates push --provisioner-tag`). @default {} (untagged)
     */
    provisionerTags?: Record<string, string>;
  }): { id: string; name: string; activeVersionId: string };
  workspace(w: {
    owner: string;
    name: string;
    template: string;
    organization?: string;
    parameters?: Record<string, string>;
    status?: 'running' | 'stopped';
    autostartSchedule?: string;
    nextStartAt?: string | null;
    createdAt?: string;
    ttlMs?: number;
  }): { id: string; name: string; latestBuildId: string };
  provisionerKey(k: { name: string; organization?: string; tags?: Record<string, string> }): {
    id: string;
    name: string;
    key: string;
  };
  provisionerDaemon(d: {
    name: string;
    keyName: string;
    organization?: string;
    lastSeenAt?: string;
    status?: 'idle' | 'busy' | 'offline';
  }): { id: string };
  removeProvisionerDaemon(name: string): void;
}

export interface CoderSimulator {
  readonly url: string;
  /** The Coder release the simulator behaves as. */
  readonly profile: SimProfile;
  readonly adminToken: string;
  readonly seed: SimulatorSeeder;
  setFaults(faults: FaultConfig | undefined): void;
  requestCounts(): Record<string, number>;
  /** Every route the simulator serves, as 'METHOD /template' keys (the same keys as requestCounts). */
  routeKeys(): string[];
  totalRequests(): number;
  resetRequestCounts(): void;
  exchanges(): RecordedExchange[];
  clearExchanges(): void;
  workspacesSnapshot(opts?: { includeDeleted?: boolean }): SimWorkspaceView[];
  webhookDeliveries(): WebhookDelivery[];
  /** Every notification message generated, delivered or not (also without a webhookUrl). */
  notifications(): NotificationMessage[];
  /** Finish all in-progress builds now (in queue mode: pending ones too, without a daemon). */
  advanceBuilds(): void;
  /** The simulated clock (see `timeScale`). */
  readonly clock: Pick<SimClock, 'now' | 'nowIso' | 'scale' | 'advance' | 'advanceTo' | 'setScale'>;
  /** The provisioner queue; undefined unless started with `provisioners`. */
  readonly provisioners: SimProvisioners | undefined;
  close(): Promise<void>;
}

/** Control of the provisioner queue from outside the API (what an operator or the cluster does). */
export interface SimProvisioners {
  /** Starts or stops daemons until `count` of the pool run. */
  setPool(spec: DaemonPoolSpec): void;
  /** Every job the simulator knows (seeded builds included), times in simulated epoch ms. */
  jobs(): SimJobView[];
  /** Jobs pending now. */
  pendingCount(): number;
  /** A stream of people starting and creating their own workspaces; stop it when done. */
  startPeople(options: PeopleOptions): PeopleStream;
}

export type WorkspaceStatus =
  | 'pending'
  | 'starting'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'failed'
  | 'canceling'
  | 'canceled'
  | 'deleting'
  | 'deleted';

export type WorkspaceTransition = 'start' | 'stop' | 'delete';

export type JobStatus = 'pending' | 'running' | 'succeeded' | 'canceling' | 'canceled' | 'failed';

/** The webhook body Coder's notification dispatcher sends (`_version` 1.1). */
export interface NotificationMessage {
  _version: '1.1';
  msg_id: string;
  payload: {
    _version: '1.2';
    notification_name: string;
    notification_template_id: string;
    user_id: string;
    user_email: string;
    user_name: string;
    user_username: string;
    actions: Array<{ label: string; url: string }>;
    labels: Record<string, string>;
    data: Record<string, unknown> | null;
    /** Absent before coder/coder#16985 (v2.21). */
    targets?: string[] | null;
  };
  title: string;
  title_markdown: string;
  body: string;
  body_markdown: string;
}
