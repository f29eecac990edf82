import { describe, expect, it } from 'vitest';
import { seed004ScalingConfig } from '../../config/seed-004.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { CoderWorkspaceDemand } from '../../lambdas/adapters/coder/workspace-demand.js';
import { silentLog } from '../../lambdas/core/contracts/log-sink.js';
import type { DimensionedMetricsSink } from '../../lambdas/core/contracts/metrics-sink.js';
import { parseConfig } from '../../lambdas/core/contracts/validation.js';
import { type ScalingConfig, scalingConfigSchema } from '../../lambdas/core/scaling/config.js';
import { ScalerEventError } from '../../lambdas/core/scaling/events.js';
import {
  FixedWorkspaceDemand,
  InMemoryNodeGroups,
  InMemoryOverrideStore,
} from '../../lambdas/core/scaling/in-memory.js';
import type { NodeGroupRef } from '../../lambdas/core/scaling/planner.js';
import { NodeGroupUpdateError, type WorkspaceDemandReader } from '../../lambdas/core/scaling/ports.js';
import { OverrideRequestError, type ScalerReport, ScalingRunError } from '../../lambdas/core/scaling/run.js';
import { makeHandler as makePreviewHandler } from '../../lambdas/handlers/scaling-preview.js';
import { makeHandler } from '../../lambdas/handlers/scaling-scheduler.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { at, seedConfig } from '../core/scaling/fixtures.js';

const config = seedConfig();
const ws: NodeGroupRef = { kind: 'eks-managed', clusterName: 'coder', nodegroupName: 'coder-ws' };
const prov: NodeGroupRef = { kind: 'eks-managed', clusterName: 'coder', nodegroupName: 'coder-prov' };

/** Records datapoints as `name` or `name[group]`. */
class RecordingMetrics implements DimensionedMetricsSink {
  readonly points: Record<string, number> = {};
  addMetric(name: string, _unit: unknown, value: number): void {
    this.points[name] = value;
  }
  singleMetric() {
    let group = '';
    return {
      addDimension: (_name: string, value: string) => {
        group = value;
      },
      addMetric: (name: string, _unit: unknown, value: number) => {
        this.points[`${name}[${group}]`] = value;
      },
    };
  }
}

const setup = (options: { now: string; demand?: FixedWorkspaceDemand; nodeGroups?: InMemoryNodeGroups }) => {
  const clock = { now: at(options.now) };
  const nodeGroups =
    options.nodeGroups ??
    new InMemoryNodeGroups()
      .set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 })
      .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 });
  const overrides = new InMemoryOverrideStore();
  const metrics = new RecordingMetrics();
  const demand = options.demand ?? new FixedWorkspaceDemand({ 'k8s-dev': 40 });
  const handler = makeHandler({
    config,
    nodeGroups,
    demand,
    overrides,
    now: () => clock.now,
    log: silentLog,
    metrics,
  });
  return { handler, nodeGroups, overrides, metrics, clock, demand };
};

const groupReport = (report: ScalerReport, group: string) => report.groups.find((g) => g.group === group);

describe('scaling-scheduler handler', () => {
  it('moves to peak on the 07:00 transition, reports the plan, publishes metrics, and is idempotent on redelivery', async () => {
    const { handler, nodeGroups, metrics } = setup({ now: '2026-03-09T11:00:20Z' });

    const report = await handler({ trigger: 'transition', profile: 'peak' });

    expect(report.profile).toMatchObject({ profile: 'peak', source: 'calendar' });
    expect(report.updates).toBe(2);
    expect(groupReport(report, 'coder-ws')).toMatchObject({
      action: 'update',
      outcome: 'updated',
      current: { minSize: 2, desiredSize: 3, maxSize: 30 },
      target: { minSize: 10, desiredSize: 10, maxSize: 200 },
      runningWorkspaces: 40,
      runningFloor: 3,
    });
    expect(groupReport(report, 'coder-control')).toMatchObject({ action: 'skip', outcome: 'skipped' });
    expect(nodeGroups.get(prov)?.sizes).toEqual({ minSize: 2, desiredSize: 2, maxSize: 20 });
    expect(metrics.points).toMatchObject({
      NodeGroupUpdates: 2,
      ScalingFailures: 0,
      'RunningWorkspaces[coder-ws]': 40,
      'TargetMinSize[coder-ws]': 10,
      'ActualMinSize[coder-ws]': 2,
      'TargetMaxSize[coder-prov]': 20,
      'NodesBelowRunningFloor[coder-ws]': 0,
    });

    const again = await handler({ trigger: 'transition', profile: 'peak' });
    expect(again.updates).toBe(0);
    expect(again.groups.map((g) => g.action)).toEqual(['none', 'none', 'skip']);
    expect(nodeGroups.updates).toHaveLength(2);
  });

  it('publishes the nodes saved against the peak profile held for the same demand', async () => {
    // 19:30 EDT: off-hours; 40 running need 3 nodes, the peak floor would hold 10 (and 2 provisioners).
    const { handler, metrics } = setup({ now: '2026-03-09T23:30:00Z' });
    await handler({ trigger: 'drift-check' });
    expect(metrics.points).toMatchObject({
      'NodesSavedVsPeak[coder-ws]': 7,
      'NodesSavedVsPeak[coder-prov]': 2,
    });
    expect(metrics.points).not.toHaveProperty('NodesSavedVsPeak[coder-control]');
  });

  it('works the profile out from the calendar, whatever woke it', async () => {
    const { handler } = setup({ now: '2026-03-09T15:00:00Z' });
    const report = await handler({ trigger: 'transition', profile: 'off-hours' });
    expect(report.profile.profile).toBe('peak');
  });

  it("reports the schedule's scheduled time, and plans a replayed 07:00 event for 07:00 in a dry run", async () => {
    // Prepare: 15:00 New York on Sunday: off-hours now; the replayed event was due Monday 07:00.
    const { handler, nodeGroups } = setup({ now: '2026-03-08T19:00:00Z' });
    const scheduled = { trigger: 'transition', profile: 'peak', scheduledTime: '2026-03-09T11:00:00Z' };

    // Act
    const replay = await handler({ ...scheduled, dryRun: true });
    const real = await handler(scheduled);

    // Assess
    expect(replay).toMatchObject({ scheduledTime: '2026-03-09T11:00:00Z', profile: { profile: 'peak' } });
    expect(groupReport(replay, 'coder-ws')).toMatchObject({ outcome: 'would-update' });
    expect(real).toMatchObject({ scheduledTime: '2026-03-09T11:00:00Z', profile: { profile: 'off-hours' } });
    expect(nodeGroups.updates.every((u) => u.target.minSize < 10)).toBe(true);
  });

  it('plans for another time with {"dryRun":true,"at":…}, and only in a dry run', async () => {
    const { handler, nodeGroups } = setup({ now: '2026-03-08T19:00:00Z' });

    const report = await handler({ dryRun: true, at: '2026-03-09T07:00:00-04:00' });

    expect(report.profile.profile).toBe('peak');
    expect(nodeGroups.updates).toEqual([]);
    await expect(handler({ at: '2026-03-09T07:00:00-04:00' })).rejects.toThrow(
      /at: plans for another time only in a dry run/,
    );
  });

  it('reports the plan on a dry run and changes nothing', async () => {
    const { handler, nodeGroups, overrides, metrics, clock } = setup({ now: '2026-03-09T11:00:20Z' });

    const report = await handler({ dryRun: true });
    expect(report).toMatchObject({ dryRun: true, updates: 0, request: { kind: 'run', trigger: 'ad-hoc' } });
    expect(groupReport(report, 'coder-ws')).toMatchObject({ action: 'update', outcome: 'would-update' });

    const withOverride = await handler({
      profile: 'off-hours',
      until: '2026-03-09T20:00:00Z',
      reason: 'test',
      dryRun: true,
    });
    expect(withOverride).toMatchObject({
      overrideChange: 'would-set',
      profile: { profile: 'off-hours', source: 'override' },
    });

    expect(nodeGroups.updates).toEqual([]);
    expect(await overrides.get(clock.now)).toBeUndefined();
    expect(metrics.points).toEqual({});
  });

  it('pins a profile with an override, respects it on scheduled runs, and lets it expire', async () => {
    const { handler, overrides, clock, nodeGroups } = setup({ now: '2026-03-09T23:30:00Z' }); // 19:30 EDT, off-hours

    const set = await handler({ profile: 'peak', until: '2026-03-10T01:00:00Z', reason: 'release night' });
    expect(set).toMatchObject({ overrideChange: 'set', profile: { profile: 'peak', source: 'override' } });
    expect((await overrides.get(clock.now))?.override).toMatchObject({
      profile: 'peak',
      reason: 'release night',
    });
    expect(nodeGroups.get(ws)?.sizes).toEqual({ minSize: 10, desiredSize: 10, maxSize: 200 });

    clock.now = at('2026-03-10T00:45:00Z');
    const during = await handler({ trigger: 'drift-check' });
    expect(during.profile).toMatchObject({ profile: 'peak', source: 'override' });
    expect(during.updates).toBe(0);

    clock.now = at('2026-03-10T01:00:00Z');
    const after = await handler({ trigger: 'drift-check' });
    expect(after.profile).toMatchObject({ profile: 'off-hours', source: 'calendar' });
    expect(nodeGroups.get(ws)?.sizes).toEqual({ minSize: 2, desiredSize: 10, maxSize: 30 });
  });

  it('ends an override with clearOverride', async () => {
    const { handler, overrides, clock } = setup({ now: '2026-03-09T23:30:00Z' });
    await handler({ profile: 'peak', until: '2026-03-10T01:00:00Z', reason: 'release night' });

    const cleared = await handler({ clearOverride: true });

    expect(cleared).toMatchObject({
      overrideChange: 'cleared',
      profile: { profile: 'off-hours', source: 'calendar' },
    });
    expect(await overrides.get(clock.now)).toBeUndefined();
    expect(await handler({ clearOverride: true })).toMatchObject({ overrideChange: 'none-to-clear' });
  });

  it.each([
    [
      { profile: 'turbo', until: '2026-03-10T01:00:00Z', reason: 'x-ray' },
      /profile "turbo" is not one of off-hours, peak/,
    ],
    [{ profile: 'peak', until: '2026-03-09T20:00:00Z', reason: 'late' }, /is not in the future/],
    [{ profile: 'peak', until: '2026-03-20T00:00:00Z', reason: 'long' }, /more than 72 hours away/],
  ])('refuses a bad override %j', async (event, message) => {
    const { handler } = setup({ now: '2026-03-09T23:30:00Z' });
    const error = await handler(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OverrideRequestError);
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    [{ trigger: 'sometimes' }, /trigger: Invalid option/],
    [{ hello: 'world' }, /hello: unrecognised; expected one of/],
    [{ profile: 'peak' }, /until: /],
    [{ clearOverride: true, extra: 1 }, /Unrecognized key/],
    [{ action: 'preview' }, /separate function \(scaling-preview\)/],
    ['run', /not an object/],
  ])('rejects an unknown shape %j with a clear error', async (event, message) => {
    const { handler, nodeGroups } = setup({ now: '2026-03-09T23:30:00Z' });
    const error = await handler(event).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScalerEventError);
    expect((error as Error).message).toMatch(message);
    expect(nodeGroups.updates).toEqual([]);
  });

  it('handles every group when one fails, then fails the run', async () => {
    const nodeGroups = new InMemoryNodeGroups()
      .set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 })
      .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 })
      .failNextUpdate(
        ws,
        new NodeGroupUpdateError(ws, 5, 'ResourceInUseException', 'UpdateNodegroupConfig still failing'),
      );
    const { handler, metrics } = setup({ now: '2026-03-09T11:00:20Z', nodeGroups });

    const error = await handler({ trigger: 'transition' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ScalingRunError);
    const report = (error as ScalingRunError).report;
    expect(groupReport(report, 'coder-ws')).toMatchObject({
      outcome: 'failed',
      error: 'UpdateNodegroupConfig still failing',
    });
    expect(groupReport(report, 'coder-prov')).toMatchObject({ outcome: 'updated' });
    expect(nodeGroups.get(prov)?.sizes).toEqual({ minSize: 2, desiredSize: 2, maxSize: 20 });
    expect(metrics.points).toMatchObject({ ScalingFailures: 1, NodeGroupUpdates: 1 });
  });

  it('names a missing group, and still scales the others', async () => {
    const nodeGroups = new InMemoryNodeGroups().set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 });
    const { handler } = setup({ now: '2026-03-09T11:00:20Z', nodeGroups });
    const error = (await handler({ trigger: 'transition' }).catch((e: unknown) => e)) as ScalingRunError;
    expect(error.message).toMatch(/coder-ws: EKS managed node group "coder-ws" not found in cluster "coder"/);
    expect(nodeGroups.get(prov)?.sizes.minSize).toBe(2);
  });

  it('keeps every node when Coder cannot be read, and fails the run so it is seen', async () => {
    const nodeGroups = new InMemoryNodeGroups()
      .set(ws, { minSize: 10, desiredSize: 45, maxSize: 200 })
      .set(prov, { minSize: 2, desiredSize: 2, maxSize: 20 });
    const demand = new FixedWorkspaceDemand({}, {}, new Error('Coder API unreachable: connect ECONNREFUSED'));
    const { handler } = setup({ now: '2026-03-09T22:30:00Z', nodeGroups, demand });

    const error = (await handler({ trigger: 'transition' }).catch((e: unknown) => e)) as ScalingRunError;

    expect(error).toBeInstanceOf(ScalingRunError);
    expect(error.message).toMatch(/coder-ws: running workspaces unknown: Coder API unreachable/);
    expect(nodeGroups.get(ws)?.sizes).toEqual({ minSize: 2, desiredSize: 45, maxSize: 45 });
    expect(nodeGroups.get(prov)?.sizes).toEqual({ minSize: 0, desiredSize: 2, maxSize: 5 });
  });

  it('out of time reading Coder: keeps every node, reports the run incomplete, does not fail it', async () => {
    // Prepare: the real demand adapter over a client shared by every invocation (it holds no
    // deadline of its own); this invocation has 100 ms left, less than a request needs.
    let fetched = 0;
    const client = new CoderClient({
      baseUrl: 'https://coder.example.com',
      token: 't',
      fetch: async () => {
        fetched++;
        return new Response('{}');
      },
    });
    const nodeGroups = new InMemoryNodeGroups()
      .set(ws, { minSize: 10, desiredSize: 45, maxSize: 200 })
      .set(prov, { minSize: 2, desiredSize: 2, maxSize: 20 });
    const deadlineHandler = makeHandler({
      config,
      nodeGroups,
      demand: new CoderWorkspaceDemand(client),
      overrides: new InMemoryOverrideStore(),
      now: () => at('2026-03-09T22:30:00Z'),
      log: silentLog,
      metrics: new RecordingMetrics(),
    });

    // Act: the deadline as lambdaHandler hands it over.
    const report = await deadlineHandler({ trigger: 'transition' }, { deadline: { remainingMs: () => 100 } });

    // Assess: nothing sent, nodes under workspaces kept, a clean report naming what is left.
    expect(fetched).toBe(0);
    expect(report.failures).toEqual([]);
    expect(report.incomplete).toEqual({ reason: 'deadline', groups: ['coder-ws'] });
    expect(nodeGroups.get(ws)?.sizes.desiredSize).toBe(45);
  });

  it("does not wait out Coder's Retry-After past the deadline it was handed: the run stops and says so", async () => {
    // Prepare: Coder (the simulator) answers the first read 429 with Retry-After 60 s; the
    // invocation has 20 s left. The client's sleeps are recorded, not slept.
    const sim = await startCoderSimulator({
      buildDurationMs: 10,
      faults: { rateLimitBurst: 1, rateLimitBurstRetryAfterSeconds: 60 },
    });
    try {
      sim.seed.user({ username: 'alice' });
      sim.seed.template({ name: 'k8s-dev' });
      for (let i = 0; i < 60; i++) {
        sim.seed.workspace({ owner: 'alice', name: `ws-${i}`, template: 'k8s-dev', status: 'running' });
      }
      const sleeps: number[] = [];
      const client = new CoderClient({
        baseUrl: sim.url,
        token: sim.adminToken,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      });
      const nodeGroups = new InMemoryNodeGroups()
        .set(ws, { minSize: 2, desiredSize: 2, maxSize: 30 })
        .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 });
      const handler = makeHandler({
        config,
        nodeGroups,
        demand: new CoderWorkspaceDemand(client),
        overrides: new InMemoryOverrideStore(),
        now: () => at('2026-03-09T22:30:00Z'),
        log: silentLog,
        metrics: new RecordingMetrics(),
      });

      // Act
      const report = await handler({ trigger: 'drift-check' }, { deadline: { remainingMs: () => 20_000 } });

      // Assess: no 60 s wait, one request sent, the group's nodes kept, the run incomplete (not failed).
      expect(sleeps.filter((ms) => ms >= 20_000)).toEqual([]);
      expect(sim.totalRequests()).toBe(1);
      expect(report.incomplete).toEqual({ reason: 'deadline', groups: ['coder-ws'] });
      expect(report.failures).toEqual([]);
      expect(nodeGroups.get(ws)?.sizes.desiredSize).toBe(2);
    } finally {
      await sim.close();
    }
  });

  it('pre-warms before peak with the autostart count for the next hour', async () => {
    const demand = new FixedWorkspaceDemand({ 'k8s-dev': 30 }, { 'k8s-dev': 300 });
    const { handler, nodeGroups } = setup({ now: '2026-03-09T10:40:00Z', demand });

    const report = await handler({ trigger: 'drift-check' });

    expect(report.preWarmFor).toMatchObject({ at: '07:00', effectiveProfile: 'peak' });
    expect(groupReport(report, 'coder-ws')).toMatchObject({ autostartingSoon: 300 });
    expect(nodeGroups.get(ws)?.sizes).toEqual({ minSize: 22, desiredSize: 22, maxSize: 30 });
    expect(demand.calls).toEqual([
      'running:*',
      'autostart:2026-03-09T10:40:00.000Z..2026-03-09T11:40:00.000Z:*',
    ]);
  });

  it('does not read autostart counts outside the pre-warm window', async () => {
    const { handler, demand } = setup({ now: '2026-03-09T15:00:00Z' });
    await handler({ trigger: 'drift-check' });
    expect(demand.calls).toEqual(['running:*']);
  });
});

describe('scaling-scheduler handler: a calendar with no holiday ahead', () => {
  /** The reference config as it was: holidays as a list of dates that ends on 2027-01-01. */
  const listed = parseConfig(
    scalingConfigSchema,
    {
      ...seed004ScalingConfig,
      schedule: {
        ...seed004ScalingConfig.schedule,
        holidayRules: [],
        holidays: ['2026-05-25', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25', '2027-01-01'],
      },
    },
    'listed',
  );
  const run = async (scaling: typeof listed, now: string) => {
    const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
    const metrics = new RecordingMetrics();
    const handler = makeHandler({
      config: scaling,
      nodeGroups: new InMemoryNodeGroups()
        .set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 })
        .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 }),
      demand: new FixedWorkspaceDemand({ 'k8s-dev': 40 }),
      overrides: new InMemoryOverrideStore(),
      now: () => at(now),
      log: { ...silentLog, warn: (message, extra) => warnings.push([message, extra]) },
      metrics,
    });
    const report = await handler({ trigger: 'drift-check' });
    return { report, warnings, metrics };
  };

  it('warns in the report and the log, and publishes HolidaysNext12Months 0, once the listed dates have run out', async () => {
    const { report, warnings, metrics } = await run(listed, '2027-03-01T15:00:00Z');

    expect(report.holidays).toMatchObject({ from: '2027-03-01', next12Months: 0 });
    expect(report.warnings).toEqual([
      expect.stringMatching(
        /^the scaling calendar has no holiday in the 12 months from 2027-03-01, .*the last date in schedule\.holidays is 2027-01-01/,
      ),
    ]);
    expect(warnings.map(([message]) => message)).toEqual(report.warnings);
    expect(metrics.points.HolidaysNext12Months).toBe(0);
    // A warning, not a failure: the run scaled as usual.
    expect(report.failures).toEqual([]);
    expect(report.profile.profile).toBe('peak');
  });

  it('the reference config (rules) has holidays ahead in 2027 and later: no warning, the count published', async () => {
    for (const now of ['2027-03-01T15:00:00Z', '2031-08-12T15:00:00Z']) {
      const { report, warnings, metrics } = await run(config, now);

      expect(report.warnings).toBeUndefined();
      expect(warnings).toEqual([]);
      expect(report.holidays?.next12Months).toBeGreaterThanOrEqual(6);
      expect(metrics.points.HolidaysNext12Months).toBe(report.holidays?.next12Months);
    }
    const { report } = await run(config, '2027-03-01T15:00:00Z');
    expect(report.holidays?.next).toEqual({ date: '2027-05-31', name: 'Memorial Day' });
  });
});

describe('scaling-scheduler handler: template names as Coder matches them (issue 19, finding 3)', () => {
  const withTemplates = (...templates: string[]): ScalingConfig => {
    const seed = seedConfig();
    return {
      ...seed,
      nodeGroups: seed.nodeGroups.map((g) =>
        g.role.kind === 'workspaces' ? { ...g, role: { ...g.role, templates } } : g,
      ),
    };
  };
  const withSimulator = async (
    run: (sim: CoderSimulator, demand: CoderWorkspaceDemand) => Promise<void>,
  ): Promise<void> => {
    const sim = await startCoderSimulator({ buildDurationMs: 10 });
    try {
      sim.seed.user({ username: 'alice' });
      sim.seed.template({ name: 'kubernetes-multi' });
      sim.seed.template({ name: 'docker' });
      for (let i = 0; i < 60; i++) {
        sim.seed.workspace({
          owner: 'alice',
          name: `ws-${i}`,
          template: 'kubernetes-multi',
          status: 'running',
        });
      }
      await run(sim, new CoderWorkspaceDemand(new CoderClient({ baseUrl: sim.url, token: sim.adminToken })));
    } finally {
      await sim.close();
    }
  };
  const handlerFor = (
    config: ScalingConfig,
    demand: WorkspaceDemandReader,
    nodeGroups: InMemoryNodeGroups,
  ) => {
    const metrics = new RecordingMetrics();
    const handler = makeHandler({
      config,
      nodeGroups,
      demand,
      overrides: new InMemoryOverrideStore(),
      // 18:30 EDT: off-hours (coder-ws max 30).
      now: () => at('2026-03-09T22:30:00Z'),
      log: silentLog,
      metrics,
    });
    return { handler, metrics };
  };

  it("counts Kubernetes-Multi in the config as Coder's kubernetes-multi, and raises desired to the floor", async () => {
    await withSimulator(async (_sim, demand) => {
      // Prepare: 60 running on 15 per node need 4 nodes; the group has 2.
      const nodeGroups = new InMemoryNodeGroups()
        .set(ws, { minSize: 2, desiredSize: 2, maxSize: 30 })
        .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 });
      const { handler, metrics } = handlerFor(withTemplates('Kubernetes-Multi'), demand, nodeGroups);

      // Act
      const report = await handler({ trigger: 'drift-check' });

      // Assess: before, the exact match counted 0: floor 0, desired left at 2, the alarm quiet.
      expect(groupReport(report, 'coder-ws')).toMatchObject({ runningWorkspaces: 60, runningFloor: 4 });
      expect(nodeGroups.get(ws)?.sizes.desiredSize).toBe(4);
      expect(report.templatesUnknown).toEqual([]);
      expect(metrics.points).toMatchObject({ 'RunningWorkspaces[coder-ws]': 60, ScalingTemplatesUnknown: 0 });
    });
  });

  it('a template Coder does not have fails the group naming it and what Coder has, keeps every node, and is published', async () => {
    await withSimulator(async (sim, demand) => {
      // Prepare: off-hours would clamp desired 45 to max 30 if the floor were 0.
      const nodeGroups = new InMemoryNodeGroups()
        .set(ws, { minSize: 10, desiredSize: 45, maxSize: 200 })
        .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 });
      const { handler, metrics } = handlerFor(withTemplates('kubernetes-multy'), demand, nodeGroups);
      sim.resetRequestCounts();

      // Act
      const error = (await handler({ trigger: 'drift-check' }).catch((e: unknown) => e)) as ScalingRunError;

      // Assess
      expect(error).toBeInstanceOf(ScalingRunError);
      expect(error.message).toContain(
        'coder-ws: running workspaces unknown: template "kubernetes-multy" (did you mean "kubernetes-multi"?) of node group coder-ws is not a template in Coder (Coder has docker, kubernetes-multi)',
      );
      expect(nodeGroups.get(ws)?.sizes).toEqual({ minSize: 2, desiredSize: 45, maxSize: 45 });
      expect(groupReport(error.report, 'coder-ws')).toMatchObject({ unknownTemplates: ['kubernetes-multy'] });
      expect(error.report.templatesUnknown).toEqual(['kubernetes-multy']);
      expect(metrics.points).toMatchObject({ ScalingTemplatesUnknown: 1, ScalingFailures: 1 });
      expect(sim.requestCounts()['GET /api/v2/templates']).toBe(1);
    });
  });

  it("reads Coder's templates once per run, however many groups name templates, and not at all when none does", async () => {
    // Prepare: two workspace groups, each naming templates.
    const seed = seedConfig();
    const config = scalingConfigSchema.parse({
      ...seed,
      nodeGroups: [
        ...seed.nodeGroups.map((g) =>
          g.role.kind === 'workspaces' ? { ...g, role: { ...g.role, templates: ['k8s-dev'] } } : g,
        ),
        {
          name: 'gpu',
          kind: 'auto-scaling-group',
          autoScalingGroupName: 'gpu',
          role: { kind: 'workspaces', workspacesPerNode: 2, templates: ['GPU', 'k8s-dev'] },
          profiles: { peak: { minSize: 0, maxSize: 4 }, 'off-hours': { minSize: 0, maxSize: 2 } },
        },
      ],
    });
    const gpu: NodeGroupRef = { kind: 'auto-scaling-group', autoScalingGroupName: 'gpu' };
    const nodeGroups = new InMemoryNodeGroups()
      .set(ws, { minSize: 2, desiredSize: 3, maxSize: 30 })
      .set(prov, { minSize: 0, desiredSize: 0, maxSize: 5 })
      .set(gpu, { minSize: 0, desiredSize: 0, maxSize: 2 });
    const demand = new FixedWorkspaceDemand({ 'k8s-dev': 40, gpu: 3 });
    const { handler } = handlerFor(config, demand, nodeGroups);

    // Act
    const report = await handler({ trigger: 'drift-check' });

    // Assess
    expect(demand.calls.filter((c) => c === 'templates')).toHaveLength(1);
    // The templates are checked after the counts: a rename while they were read shows up.
    expect(demand.calls.at(-1)).toBe('templates');
    expect(groupReport(report, 'gpu')).toMatchObject({ runningWorkspaces: 43, runningFloor: 22 });
    const none = new FixedWorkspaceDemand({ 'k8s-dev': 40 });
    await handlerFor(seedConfig(), none, nodeGroups).handler({ trigger: 'drift-check' });
    expect(none.calls).toEqual(['running:*']);
  });
});

describe('scaling-preview handler', () => {
  it('lists transitions, local and UTC, with holidays and the current override', async () => {
    const overrides = new InMemoryOverrideStore();
    await overrides.put(
      {
        profile: 'peak',
        until: '2026-12-25T23:00:00Z',
        reason: 'year-end release',
        setAt: '2026-12-24T12:00:00Z',
      },
      undefined,
    );
    const preview = makePreviewHandler({ config, overrides, now: () => at('2026-12-24T15:00:00Z') });

    const result = await preview({ action: 'preview', from: '2026-12-24T00:00:00-05:00', days: 3 });

    expect(result).toMatchObject({
      timeZone: 'America/New_York',
      from: '2026-12-24T05:00:00.000Z',
      to: '2026-12-27T05:00:00.000Z',
      now: { profile: 'peak', source: 'override' },
      override: { reason: 'year-end release' },
    });
    expect(result.transitions.map((t) => [t.atLocal, t.atUtc, t.effectiveProfile, t.holiday])).toEqual([
      ['2026-12-24T07:00:00.000-05:00', '2026-12-24T12:00:00.000Z', 'peak', false],
      ['2026-12-24T18:00:00.000-05:00', '2026-12-24T23:00:00.000Z', 'off-hours', false],
      ['2026-12-25T07:00:00.000-05:00', '2026-12-25T12:00:00.000Z', 'off-hours', true],
      ['2026-12-25T18:00:00.000-05:00', '2026-12-25T23:00:00.000Z', 'off-hours', true],
    ]);
    expect(result.transitions[2]?.holidayName).toBe('Christmas Day');
    expect(result.holidays).toMatchObject({
      from: '2026-12-24',
      next: { date: '2026-12-25', name: 'Christmas Day' },
    });
    expect(result.holidays.warning).toBeUndefined();
  });

  it('defaults to the next 14 days from now and rejects bad input', async () => {
    const preview = makePreviewHandler({
      config,
      overrides: new InMemoryOverrideStore(),
      now: () => at('2026-03-06T12:30:00Z'),
    });
    const result = await preview({});
    expect(result.to).toBe('2026-03-20T12:30:00.000Z');
    expect(result.transitions[0]?.atUtc).toBe('2026-03-06T23:00:00.000Z');
    await expect(preview({ days: 400 })).rejects.toThrow(/days: /);
    await expect(preview({ from: 'tomorrow' })).rejects.toThrow(/from: must be an ISO 8601/);
  });
});
