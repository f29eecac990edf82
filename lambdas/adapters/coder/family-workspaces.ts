import { isDeadlineStop } from '../../core/contracts/deadline.js';
import { createConcurrencyLimit } from '../../core/families/concurrency.js';
import {
  type BuildParameter,
  type FamilyWorkspace,
  type FullParameters,
  fullParameters,
  type ParentParameters,
  type WorkspaceRead,
  type WorkspaceRef,
} from '../../core/families/model.js';
import {
  type FamilyWorkspacesPort,
  type RunCall,
  type WorkspaceListing,
  WorkspaceOpError,
  type WorkspaceOpErrorKind,
} from '../../core/families/ports.js';
import { parseCountValue } from '../../core/families/snapshot-index.js';
import type { CoderClient } from './client.js';
import { CoderApiError, CoderError } from './errors.js';
import { countOnlyParameters, discoverParentCounts } from './family-parent-counts.js';
import { ACTIVE_JOB_STATUSES, type Workspace } from './types.js';

/** Where build parameters are kept between cold starts (the ledger table; see DynamoBuildParameterStore). */
export interface BuildParameterStore {
  getMany(buildIds: readonly string[]): Promise<Map<string, BuildParameter[]>>;
  putMany(entries: ReadonlyMap<string, readonly BuildParameter[]>): Promise<void>;
}

export type FamilyCoderClient = Pick<
  CoderClient,
  | 'listWorkspaces'
  | 'listTemplates'
  | 'getWorkspace'
  | 'getWorkspaceByOwnerAndName'
  | 'getBuildParameters'
  | 'createWorkspace'
  | 'createBuild'
  | 'me'
  | 'stats'
>;

export interface CoderFamilyWorkspacesOptions {
  readonly client: FamilyCoderClient;
  /** Template names the controller manages. */
  readonly templates: readonly string[];
  /** `default` means no organization filter (template names can then match in several orgs). */
  readonly organization: string;
  /**
   * Build parameters by build id (and `count:<build id>` for a count found by search). Pass a
   * module-scope map so a warm Lambda keeps it across runs: a build's parameters never change, so
   * entries never go stale.
   */
  readonly parameterCache?: Map<string, BuildParameter[]>;
  /** Second-level cache that survives cold starts. */
  readonly parameterStore?: BuildParameterStore;
  /** Parameter reads in flight at once on a cache miss. @default 8 */
  readonly fetchConcurrency?: number;
  /** Workspaces per list page. @default 100 */
  readonly pageSize?: number;
  /** Entries kept in the in-memory cache. @default 50000 */
  readonly maxCachedBuilds?: number;
  /** Find parents' counts with `param:` searches when many are unknown. @default true */
  readonly discoverCounts?: boolean;
}

/** Cache and store key of a build's count alone (what a `param:` search tells). */
const countKey = (buildId: string): string => `count:${buildId}`;

/** A build's count as the store keeps it (a one-parameter list), back to what the engine speaks. */
const storedCount = (stored: BuildParameter[] | undefined): ParentParameters | undefined => {
  const count = parseCountValue(stored?.[0]?.value);
  return count === undefined ? undefined : { kind: 'count-only', count };
};

/**
 * The Coder side of workspace families. A full snapshot costs one paged list per managed
 * template; parameters come from the per-build cache, so a steady-state run reads no parameters.
 * One instance serves every run of a container: each call carries its run's deadline.
 */
export class CoderFamilyWorkspaces implements FamilyWorkspacesPort {
  private readonly client: FamilyCoderClient;
  private readonly templates: ReadonlySet<string>;
  private readonly cache: Map<string, BuildParameter[]>;
  private readonly fetchLimit: ReturnType<typeof createConcurrencyLimit>;
  /** The controller's own user, asked once per container. */
  private me: Promise<string | undefined> | undefined;
  /**
   * False once Coder rejected a `param:` search: this release (or a proxy in front of it) reads
   * parameters one by one for the rest of the container's life.
   */
  private searchSupported = true;

  constructor(private readonly options: CoderFamilyWorkspacesOptions) {
    this.client = options.client;
    this.templates = new Set(options.templates.map((t) => t.toLowerCase()));
    this.cache = options.parameterCache ?? new Map();
    this.fetchLimit = createConcurrencyLimit(options.fetchConcurrency ?? 8);
  }

  async templateNames(call: RunCall): Promise<string[]> {
    const org = this.options.organization;
    try {
      const templates = await this.client.listTemplates(org.toLowerCase() === 'default' ? undefined : org, {
        deadline: call.deadline,
      });
      return templates.map((t) => t.name);
    } catch (error) {
      throw toOpError(error);
    }
  }

  async listManagedWorkspaces(call: RunCall): Promise<WorkspaceListing> {
    try {
      const lists = await Promise.all(
        [...this.options.templates].map((template) =>
          this.client.listWorkspaces({
            q: this.query(`template:${quote(template)}`),
            pageSize: this.options.pageSize,
            deadline: call.deadline,
          }),
        ),
      );
      const seen = new Set<string>();
      return {
        workspaces: lists
          .flatMap((list) => list.workspaces)
          .filter((w) => !seen.has(w.id) && seen.add(w.id) && this.managed(w))
          .map(toFamilyWorkspace),
        complete: lists.every((list) => list.complete),
      };
    } catch (error) {
      throw toOpError(error);
    }
  }

  async listOwnerWorkspaces(owner: string, call: RunCall): Promise<WorkspaceListing> {
    try {
      const list = await this.client.listWorkspaces({
        q: this.query(`owner:${quote(owner)}`),
        pageSize: this.options.pageSize,
        deadline: call.deadline,
      });
      return {
        workspaces: list.workspaces.filter((w) => this.managed(w)).map(toFamilyWorkspace),
        complete: list.complete,
      };
    } catch (error) {
      throw toOpError(error);
    }
  }

  async readWorkspace(ref: WorkspaceRef, call: RunCall): Promise<WorkspaceRead> {
    try {
      const options = { includeDeleted: true, deadline: call.deadline };
      const found =
        ref.id !== undefined
          ? await this.client.getWorkspace(ref.id, options)
          : await this.client.getWorkspaceByOwnerAndName(ref.owner ?? '', ref.name ?? '', options);
      if (!found) return { state: 'vanished' };
      // Deleted once its delete build succeeded (coderd marks the workspace deleted as that job completes).
      const deleted =
        found.latest_build.transition === 'delete' && found.latest_build.job.status === 'succeeded';
      return { state: deleted ? 'deleted' : 'present', workspace: toFamilyWorkspace(found) };
    } catch (error) {
      if (error instanceof CoderApiError && (error.kind === 'not_found' || error.kind === 'gone')) {
        return { state: 'vanished' };
      }
      if (isDeadlineStop(error)) throw toOpError(error);
      return { state: 'unreadable', error: error instanceof Error ? error.message : String(error) };
    }
  }

  async buildParameters(
    buildIds: readonly string[],
    call: RunCall & { onRead?: ((count: number) => void) | undefined },
  ): Promise<Map<string, FullParameters>> {
    const result = new Map<string, FullParameters>();
    let misses: string[] = [];
    for (const id of new Set(buildIds)) {
      const cached = this.cache.get(id);
      if (cached) result.set(id, fullParameters(cached));
      else misses.push(id);
    }
    if (misses.length > 0 && this.options.parameterStore) {
      const stored = await this.options.parameterStore.getMany(misses);
      for (const [id, parameters] of stored) {
        result.set(id, fullParameters(parameters));
        this.remember(id, parameters);
      }
      misses = misses.filter((id) => !stored.has(id));
    }
    let outOfTime: unknown;
    await Promise.all(
      misses.map((id) =>
        this.fetchLimit(async () => {
          if (outOfTime) return;
          try {
            const parameters = (await this.client.getBuildParameters(id, { deadline: call.deadline })).map(
              (p) => ({ name: p.name, value: p.value }),
            );
            result.set(id, fullParameters(parameters));
            this.remember(id, parameters);
            call.onRead?.(1);
            // Kept as it is read, so a run cut short leaves its reads for the next one.
            await this.options.parameterStore
              ?.putMany(new Map([[id, parameters]]))
              // Best effort: the next cold start just reads them from Coder again.
              .catch(() => undefined);
          } catch (error) {
            // Out of time: what was read is kept; the run stops. Any other failure is left out:
            // the planner decides nothing about a workspace it cannot read.
            if (isDeadlineStop(error)) outOfTime ??= error;
          }
        }),
      ),
    );
    if (outOfTime) throw toOpError(outOfTime);
    return result;
  }

  async parentParameters(
    candidates: readonly FamilyWorkspace[],
    options: { countParameter: string; maxCount: number; knownChildren: number },
    call: RunCall & { onRead?: ((count: number) => void) | undefined },
  ): Promise<Map<string, ParentParameters>> {
    const parameters = new Map<string, ParentParameters>();
    const place = (id: string, full: BuildParameter[] | undefined, count: BuildParameter[] | undefined) => {
      const known = full ? fullParameters(full) : storedCount(count);
      if (known) parameters.set(id, known);
      return known !== undefined;
    };
    let unknown = candidates.filter(
      (w) =>
        !place(
          w.latestBuild.id,
          this.cache.get(w.latestBuild.id),
          this.cache.get(countKey(w.latestBuild.id)),
        ),
    );
    const store = this.options.parameterStore;
    if (unknown.length > 0 && store) {
      const ids = unknown.map((w) => w.latestBuild.id);
      const stored = await store.getMany([...ids, ...ids.map(countKey)]);
      for (const [id, value] of stored) this.remember(id, value);
      unknown = unknown.filter(
        (w) => !place(w.latestBuild.id, stored.get(w.latestBuild.id), stored.get(countKey(w.latestBuild.id))),
      );
    }
    // Discovery costs about one search per count value: worth it only above that many reads.
    if (
      this.searchSupported &&
      (this.options.discoverCounts ?? true) &&
      unknown.length > options.maxCount + 1
    ) {
      const found = await discoverParentCounts({
        client: this.client,
        unknown,
        countParameter: options.countParameter,
        maxCount: options.maxCount,
        knownChildren: options.knownChildren,
        query: (term) => this.query(term),
        pageSize: this.options.pageSize ?? 100,
        limit: this.fetchLimit,
        deadline: call.deadline,
      }).catch((error: unknown) => {
        throw toOpError(error);
      });
      if (!found) this.searchSupported = false;
      else {
        const counts = new Map<string, BuildParameter[]>();
        for (const [id, count] of found.counts) {
          const value = countOnlyParameters(options.countParameter, count);
          parameters.set(id, { kind: 'count-only', count });
          this.remember(countKey(id), value);
          counts.set(countKey(id), value);
        }
        call.onRead?.(found.counts.size);
        // A build's count never changes: kept like its parameters, so the next cold start skips the search.
        if (store && counts.size > 0) await store.putMany(counts).catch(() => undefined);
        unknown = found.unresolved;
      }
    }
    const read = await this.buildParameters(
      unknown.map((w) => w.latestBuild.id),
      call,
    );
    for (const [id, value] of read) parameters.set(id, value);
    return parameters;
  }

  controllerUserId(call: RunCall): Promise<string | undefined> {
    this.me ??= this.client.me({ deadline: call.deadline }).then(
      (user) => user.id,
      () => {
        this.me = undefined;
        return undefined;
      },
    );
    return this.me;
  }

  async createWorkspace(
    input: {
      organizationId: string;
      ownerName: string;
      name: string;
      templateId: string;
      parameters: FullParameters['values'];
    },
    call: RunCall,
  ): Promise<FamilyWorkspace> {
    try {
      const created = await this.client.createWorkspace(
        input.organizationId,
        input.ownerName,
        {
          name: input.name,
          template_id: input.templateId,
          rich_parameter_values: input.parameters.map((p) => ({ name: p.name, value: p.value })),
        },
        { deadline: call.deadline },
      );
      return toFamilyWorkspace(created);
    } catch (error) {
      throw toOpError(error);
    }
  }

  async transition(
    workspaceId: string,
    transition: 'start' | 'stop' | 'delete',
    call: RunCall,
  ): Promise<void> {
    try {
      await this.client.createBuild(workspaceId, { transition }, { deadline: call.deadline });
    } catch (error) {
      throw toOpError(error);
    }
  }

  stats(): { requests: number; throttled: number } {
    const s = this.client.stats();
    return { requests: s.requests, throttled: s.rateLimited };
  }

  private query(term: string): string {
    const org = this.options.organization;
    return org.toLowerCase() === 'default' ? term : `${term} organization:${quote(org)}`;
  }

  private managed(w: Workspace): boolean {
    return this.templates.has(w.template_name.toLowerCase());
  }

  private remember(id: string, parameters: BuildParameter[]): void {
    this.cache.set(id, parameters);
    const max = this.options.maxCachedBuilds ?? 50_000;
    while (this.cache.size > max) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }
}

const quote = (value: string): string => (/[\s:"]/.test(value) ? `"${value.replaceAll('"', '')}"` : value);

export const toFamilyWorkspace = (w: Workspace): FamilyWorkspace => ({
  id: w.id,
  name: w.name,
  ownerName: w.owner_name,
  ownerId: w.owner_id,
  organizationId: w.organization_id,
  templateId: w.template_id,
  templateName: w.template_name,
  createdAt: w.created_at,
  latestBuild: {
    id: w.latest_build.id,
    number: w.latest_build.build_number,
    transition: w.latest_build.transition,
    status: w.latest_build.status,
    jobActive: ACTIVE_JOB_STATUSES.has(w.latest_build.job.status),
    initiatorId: w.latest_build.initiator_id,
  },
});

/**
 * Coder's answer in the executor's terms. Rate limits, 5xx, timeouts, network errors and an
 * expired token are transient (they say nothing about the family); a rejected request is permanent.
 */
export const toOpError = (error: unknown): WorkspaceOpError => {
  if (error instanceof WorkspaceOpError) return error;
  const message = error instanceof Error ? error.message : String(error);
  let kind: WorkspaceOpErrorKind = 'permanent';
  if (error instanceof CoderApiError) {
    switch (error.kind) {
      case 'already_exists':
      case 'build_active':
      case 'gone':
      case 'not_found':
        kind = error.kind;
        break;
      case 'rate_limited':
      case 'server':
      case 'unauthorized':
      case 'conflict':
        kind = 'transient';
        break;
      default:
        kind = 'permanent';
    }
  } else if (error instanceof CoderError) {
    kind =
      error.kind === 'deadline'
        ? 'deadline'
        : error.kind === 'network' || error.kind === 'timeout'
          ? 'transient'
          : 'permanent';
  }
  return new WorkspaceOpError(kind, message, { cause: error });
};
