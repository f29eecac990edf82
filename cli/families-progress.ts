import type { BuildParameter } from '../lambdas/core/families/model.js';
import type { FamilyWorkspacesPort } from '../lambdas/core/families/ports.js';
import type { ProgressMeter } from './progress.js';

/** Build parameters are read in batches this big, so the meter moves while the adapter works. */
const PARAMETER_BATCH = 100;

/**
 * The families engine's Coder port with a progress meter on its long phase: reading one build's
 * parameters per parent candidate (3,000 requests at seed 004's scale when nothing is cached).
 * The batches run together; the adapter's own limiter still caps the requests in flight.
 */
export const withParameterProgress = (
  inner: FamilyWorkspacesPort,
  meter: ProgressMeter,
): FamilyWorkspacesPort => ({
  listManagedWorkspaces: () => inner.listManagedWorkspaces(),
  listOwnerWorkspaces: (owner) => inner.listOwnerWorkspaces(owner),
  describeWorkspace: (id) => inner.describeWorkspace(id),
  controllerUserId: () => inner.controllerUserId(),
  createWorkspace: (input) => inner.createWorkspace(input),
  getWorkspaceByOwnerAndName: (owner, name) => inner.getWorkspaceByOwnerAndName(owner, name),
  transition: (id, transition) => inner.transition(id, transition),
  stats: () => inner.stats(),
  async buildParameters(buildIds) {
    const ids = [...new Set(buildIds)];
    if (ids.length <= PARAMETER_BATCH) return inner.buildParameters(ids);
    meter.start('reading build parameters', ids.length);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += PARAMETER_BATCH) batches.push(ids.slice(i, i + PARAMETER_BATCH));
    try {
      const parts = await Promise.all(
        batches.map(async (batch) => {
          const part = await inner.buildParameters(batch);
          meter.add(batch.length);
          return part;
        }),
      );
      return new Map<string, BuildParameter[]>(parts.flatMap((part) => [...part]));
    } finally {
      meter.done();
    }
  },
});
