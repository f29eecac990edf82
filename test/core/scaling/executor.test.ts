import { describe, expect, it } from 'vitest';
import { silentLog } from '../../../lambdas/core/contracts/log-sink.js';
import { executeScalingPlan } from '../../../lambdas/core/scaling/executor.js';
import { InMemoryNodeGroups } from '../../../lambdas/core/scaling/in-memory.js';
import { type NodeGroupRef, planNodeGroupScaling } from '../../../lambdas/core/scaling/planner.js';
import { updateRequestToken } from '../../../lambdas/core/scaling/request-token.js';
import { at, seedConfig } from './fixtures.js';

const config = seedConfig();
const ws: NodeGroupRef = { kind: 'eks-managed', clusterName: 'coder', nodegroupName: 'coder-ws' };
const prov: NodeGroupRef = { kind: 'eks-managed', clusterName: 'coder', nodegroupName: 'coder-prov' };
const PEAK = at('2026-03-09T13:00:00Z');

const planAtPeak = () =>
  planNodeGroupScaling(
    {
      config,
      groups: {
        'coder-ws': { kind: 'found', status: 'ACTIVE', sizes: { minSize: 2, desiredSize: 3, maxSize: 30 } },
        'coder-prov': { kind: 'found', status: 'ACTIVE', sizes: { minSize: 0, desiredSize: 0, maxSize: 5 } },
      },
      demand: { 'coder-ws': { kind: 'known', running: 0 } },
    },
    PEAK,
  );

describe('executeScalingPlan', () => {
  it('updates each group with a deterministic request token and reports the outcomes', async () => {
    const nodeGroups = new InMemoryNodeGroups()
      .set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 })
      .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 });

    const outcomes = await executeScalingPlan(planAtPeak(), {
      nodeGroups,
      now: PEAK,
      tokenWindowMinutes: 15,
      dryRun: false,
      log: silentLog,
    });

    const wsToken = updateRequestToken(ws, { minSize: 10, desiredSize: 10, maxSize: 200 }, PEAK, 15);
    expect(outcomes).toEqual([
      { group: 'coder-ws', outcome: 'updated', requestToken: wsToken },
      {
        group: 'coder-prov',
        outcome: 'updated',
        requestToken: expect.stringMatching(/^cfc-scale-[0-9a-f]{40}$/),
      },
      { group: 'coder-control', outcome: 'skipped' },
    ]);
    expect(nodeGroups.get(ws)?.sizes).toEqual({ minSize: 10, desiredSize: 10, maxSize: 200 });
    expect(nodeGroups.get(prov)?.sizes).toEqual({ minSize: 2, desiredSize: 2, maxSize: 20 });
  });

  it('reports a replay of the same request token as replayed, not updated', async () => {
    // Prepare: the update went through, then someone set the group back by hand within the window.
    const nodeGroups = new InMemoryNodeGroups()
      .set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 })
      .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 });
    const deps = { nodeGroups, now: PEAK, tokenWindowMinutes: 15, dryRun: false, log: silentLog };
    await executeScalingPlan(planAtPeak(), deps);
    nodeGroups.set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 });

    // Act
    const outcomes = await executeScalingPlan(planAtPeak(), deps);

    // Assess
    expect(outcomes[0]).toMatchObject({
      group: 'coder-ws',
      outcome: 'replayed',
      note: expect.stringMatching(/replay of update .* changed nothing/),
    });
    expect(nodeGroups.get(ws)?.sizes).toEqual({ minSize: 2, desiredSize: 3, maxSize: 30 });
  });

  it('changes nothing on a dry run', async () => {
    const nodeGroups = new InMemoryNodeGroups().set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 });
    const outcomes = await executeScalingPlan(planAtPeak(), {
      nodeGroups,
      now: PEAK,
      tokenWindowMinutes: 15,
      dryRun: true,
      log: silentLog,
    });
    expect(outcomes.map((o) => o.outcome)).toEqual(['would-update', 'would-update', 'skipped']);
    expect(nodeGroups.updates).toEqual([]);
  });

  it('keeps going after one group fails', async () => {
    const nodeGroups = new InMemoryNodeGroups()
      .set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 })
      .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 })
      .failNextUpdate(ws, new Error('update in progress after 4 attempts'));
    const outcomes = await executeScalingPlan(planAtPeak(), {
      nodeGroups,
      now: PEAK,
      tokenWindowMinutes: 15,
      dryRun: false,
      log: silentLog,
    });
    expect(outcomes[0]).toEqual({
      group: 'coder-ws',
      outcome: 'failed',
      error: 'update in progress after 4 attempts',
    });
    expect(outcomes[1]).toMatchObject({ group: 'coder-prov', outcome: 'updated' });
  });
});

describe('updateRequestToken', () => {
  const target = { minSize: 10, desiredSize: 10, maxSize: 200 };

  it('is the same within a window and differs across windows, targets and groups', () => {
    const token = updateRequestToken(ws, target, at('2026-03-09T11:00:05Z'), 15);
    expect(updateRequestToken(ws, target, at('2026-03-09T11:14:59Z'), 15)).toBe(token);
    expect(updateRequestToken(ws, target, at('2026-03-09T11:15:00Z'), 15)).not.toBe(token);
    expect(updateRequestToken(ws, { ...target, desiredSize: 11 }, at('2026-03-09T11:00:05Z'), 15)).not.toBe(
      token,
    );
    expect(updateRequestToken(prov, target, at('2026-03-09T11:00:05Z'), 15)).not.toBe(token);
    expect(token.length).toBeLessThanOrEqual(64);
  });
});
