/**
 * Provisioner jobs of an organization (coderd/provisionerjobs.go `provisionerJobs`, `provisionerJob`;
 * the query is `GetProvisionerJobsByOrganizationAndStatusWithQueuePositionAndProvisioner`).
 */
import { CoderApiError, notFound } from '../errors.js';
import type { SimBuild, SimOrganization, SimUser, SimWorkspace } from '../model.js';
import { provisionerJobInitiatorRule } from '../profiles/index.js';
import type { QueuePosition } from '../provisioning/runner.js';
import { tagsetContains } from '../provisioning/tags.js';
import { jobJson } from '../serialize.js';
import { canManageProvisioners } from '../state/roles.js';
import { isUuid, type SimState } from '../state.js';
import type { JobStatus } from '../types.js';
import { param, queryInt, type RequestContext, type Route, type RouteEnv, session } from './context.js';
import { rejectExcessParams } from './query.js';

const JOB_STATUSES: ReadonlySet<string> = new Set([
  'pending',
  'running',
  'succeeded',
  'canceling',
  'canceled',
  'failed',
  'unknown',
]);
const ACTIVE: ReadonlySet<string> = new Set(['pending', 'running', 'canceling']);

interface JobRow {
  readonly ws: SimWorkspace;
  readonly build: SimBuild;
}

export function provisionerJobRoutes({ state, profile }: RouteEnv): Route[] {
  /** Only owners and template admins may read an organization's jobs; others get 404. */
  const readableOrg = (ctx: RequestContext, caller: SimUser): SimOrganization => {
    const org = state.resolveOrg(param(ctx, 'organization'), caller);
    if (!canManageProvisioners(caller)) throw notFound();
    return org;
  };
  const initiatorParam = provisionerJobInitiatorRule(profile);

  return [
    session('GET', '/api/v2/organizations/{organization}/provisionerjobs', (ctx, caller) => {
      const org = readableOrg(ctx, caller);
      rejectExcessParams(ctx.url, [
        'limit',
        'ids',
        'status',
        'tags',
        ...(initiatorParam ? ['initiator'] : []),
      ]);
      const url = ctx.url;
      // `p.PositiveInt32(qp, 50, "limit")`.
      const limit = queryInt(url, 'limit', 50);
      const statuses = csv(url.searchParams.get('status'));
      // The statuses are cast to the `provisioner_job_status` enum in Postgres: an unknown one fails there.
      const unknown = statuses.find((s) => !JOB_STATUSES.has(s));
      if (unknown !== undefined) {
        throw new CoderApiError(500, 'Internal error fetching provisioner jobs.', {
          detail: `invalid input value for enum provisioner_job_status: "${unknown}"`,
        });
      }
      const ids = csv(url.searchParams.get('ids'));
      for (const id of ids) {
        if (!isUuid(id)) {
          throw new CoderApiError(400, 'Invalid query parameters.', {
            validations: [{ field: 'ids', detail: `Query param "ids" must be a valid uuid` }],
          });
        }
      }
      const tags = parseTags(url.searchParams.get('tags'));
      const initiator = initiatorParam
        ? resolveInitiator(state, caller, url.searchParams.get('initiator'))
        : undefined;

      state.heartbeat();
      // Newest first (created_at DESC). Candidates come in arrival order; reversed before the
      // stable sort, jobs created in the same simulated millisecond keep arrival order newest
      // first, as coderd's microsecond timestamps order them.
      const rows = candidateJobs(state, statuses)
        .reverse()
        .filter(({ build }) => build.job.orgId === org.id)
        .filter(({ build }) => statuses.length === 0 || statuses.includes(build.job.status))
        .filter(({ build }) => ids.length === 0 || ids.includes(build.job.id))
        .filter(({ build }) => tags === undefined || tagsetContains(build.job.tags, tags))
        .filter(({ build }) => initiator === undefined || build.job.initiatorId === initiator)
        .sort((a, b) => Date.parse(b.build.job.createdAt) - Date.parse(a.build.job.createdAt));
      const page = limit > 0 ? rows.slice(0, limit) : rows;
      return { status: 200, body: page.map((row) => listedJobJson(state, row)) };
    }),
    session('GET', '/api/v2/organizations/{organization}/provisionerjobs/{job}', (ctx, caller) => {
      const org = readableOrg(ctx, caller);
      const id = param(ctx, 'job');
      if (!isUuid(id)) throw new CoderApiError(400, `Invalid UUID "${id}".`);
      state.heartbeat();
      const found = state.jobById(id.toLowerCase());
      if (found === undefined || found.build.job.orgId !== org.id) throw notFound();
      return { status: 200, body: listedJobJson(state, found) };
    }),
  ];
}

const csv = (raw: string | null): string[] =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** `tags` is a JSON map (database.StringMap); anything else is a 400. */
function parseTags(raw: string | null): Record<string, string> | undefined {
  if (raw === null || raw === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new CoderApiError(400, 'Invalid tags query parameter', { detail: String(err) });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CoderApiError(400, 'Invalid tags query parameter', { detail: 'expected a JSON object' });
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

/** `initiator`: a user id, a username, or `me` (the CLI's `--initiator` takes an id or a username). */
function resolveInitiator(state: SimState, caller: SimUser, raw: string | null): string | undefined {
  if (raw === null || raw === '') return undefined;
  try {
    return state.resolveUser(raw, caller).id;
  } catch {
    throw new CoderApiError(400, 'Invalid query parameters.', {
      validations: [{ field: 'initiator', detail: `Query param "initiator" must be a valid user (${raw})` }],
    });
  }
}

/** Only active jobs are asked for: the queue knows them without walking every build. */
function candidateJobs(state: SimState, statuses: readonly string[]): JobRow[] {
  const queue = state.queue;
  if (queue !== undefined && statuses.length > 0 && statuses.every((s) => ACTIVE.has(s))) {
    return queue.activeJobs();
  }
  const rows: JobRow[] = [];
  for (const build of state.builds.values()) {
    const ws = state.workspaces.get(build.workspaceId);
    if (ws !== undefined) rows.push({ ws, build });
  }
  return rows;
}

/** A job as the list shows it: the list's queue ranking, `available_workers`, the worker's name. */
function listedJobJson(state: SimState, { ws, build }: JobRow): Record<string, unknown> {
  const job = build.job;
  const queue: QueuePosition =
    state.queue?.listQueuePosition(job) ??
    (job.status === 'pending' ? { position: 1, size: 1 } : { position: 0, size: 0 });
  const out = jobJson(state, ws, build, job.status === 'pending' ? queue : { position: 0, size: queue.size });
  // `available_workers` is aggregated for jobs not yet started; NULL (null) otherwise.
  const workers = job.status === 'pending' ? (state.queue?.availableWorkers(job) ?? []) : [];
  out.available_workers = workers.length > 0 ? workers : null;
  return out;
}

export type { JobStatus };
