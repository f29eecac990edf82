/**
 * Cheap discovery of each parent's count N: instead of one parameters read per parent (a cold run,
 * or every parent after a mass stop/start, since each start or stop is a new build), one workspace
 * search per count value with Coder's `param:<name>=<value>` filter, which matches the latest
 * build's parameters (coderd/searchquery/search.go, `param:<name>[=<value>]`, added by PR
 * coder/coder#12694, merged 2024-03-20 and first released in v2.10; it closed the feature request
 * coder/coder#10661; present in every supported release, v2.25 on). A release or proxy that
 * rejects the filter (400) falls back to per-build reads for the rest of the container's life.
 *
 * A workspace not found for any value 1..max has N = 0 (found by `=0` when that query is cheaper
 * than reading them one by one), or a count that is absent, not a number or above the maximum:
 * those are read one by one, so a clamped count is still seen.
 */
import { type Deadline, isDeadlineStop } from '../../core/contracts/deadline.js';
import type { BuildParameter, FamilyWorkspace } from '../../core/families/model.js';
import { CoderApiError } from './errors.js';
import type { FamilyCoderClient } from './family-workspaces.js';

export interface CountDiscoveryInput {
  readonly client: FamilyCoderClient;
  /** Workspaces whose latest build's parameters are not cached. */
  readonly unknown: readonly FamilyWorkspace[];
  readonly countParameter: string;
  readonly maxCount: number;
  /** Children the ledger records: they match `=0` too, so they make that query longer. */
  readonly knownChildren: number;
  /** Adds the organization filter to a search term. */
  readonly query: (term: string) => string;
  readonly pageSize: number;
  /** Runs a task under the adapter's read concurrency. */
  readonly limit: <T>(task: () => Promise<T>) => Promise<T>;
  /** The run's deadline, for every search. */
  readonly deadline?: Deadline | undefined;
}

export interface CountDiscovery {
  /** Count by build id, for the workspaces a search found. */
  readonly counts: Map<string, number>;
  /** Workspaces no search placed: read their parameters one by one. */
  readonly unresolved: FamilyWorkspace[];
  /** Search requests made (pages included). */
  readonly searches: number;
}

/** Undefined when Coder rejects the `param:` filter (then read every parent's parameters). */
export const discoverParentCounts = async (
  input: CountDiscoveryInput,
): Promise<CountDiscovery | undefined> => {
  const byId = new Map(input.unknown.map((w) => [w.id, w]));
  const counts = new Map<string, number>();
  let searches = 0;
  const search = async (value: number): Promise<void> => {
    const { workspaces: found } = await input.client.listWorkspaces({
      // Coder lowercases the whole query; parameter names are matched case-insensitively.
      q: input.query(`param:${input.countParameter.toLowerCase()}=${value}`),
      pageSize: input.pageSize,
      deadline: input.deadline,
    });
    searches += Math.max(1, Math.ceil(found.length / input.pageSize));
    for (const w of found) {
      const candidate = byId.get(w.id);
      // Only if the search saw the same build the listing did; otherwise it is read below.
      if (candidate && candidate.latestBuild.id === w.latest_build.id) counts.set(w.latest_build.id, value);
    }
  };
  try {
    const values = Array.from({ length: input.maxCount }, (_, i) => i + 1);
    await Promise.all(values.map((value) => input.limit(() => search(value))));
    const unplaced = () => input.unknown.filter((w) => !counts.has(w.latestBuild.id));
    // `=0` also lists every recorded child: worth it only when it replaces more reads than its pages.
    const zeroPages = Math.ceil((input.knownChildren + unplaced().length) / input.pageSize);
    if (unplaced().length > zeroPages) await search(0);
    return { counts, unresolved: unplaced(), searches };
  } catch (error) {
    if (isDeadlineStop(error)) throw error;
    if (error instanceof CoderApiError && error.kind === 'validation') return undefined;
    throw error;
  }
};

/** A parent's parameters as far as discovery knows them: only the count (see `countOnly`). */
export const countOnlyParameters = (countParameter: string, count: number): BuildParameter[] => [
  { name: countParameter, value: String(count) },
];
