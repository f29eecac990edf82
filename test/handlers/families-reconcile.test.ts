import { randomUUID } from 'node:crypto';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoderFamilyWorkspaces } from '../../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient } from '../../lambdas/adapters/coder/index.js';
import { CoderProvisionerCapacity } from '../../lambdas/adapters/coder/provisioner-capacity.js';
import { ConfigError } from '../../lambdas/core/contracts/validation.js';
import { familiesConfigSchema } from '../../lambdas/core/families/config.js';
import type { ContinuationEvent } from '../../lambdas/core/families/continuation.js';
import {
  FamiliesReconcileEventError,
  parseFamiliesReconcileEvent,
} from '../../lambdas/core/families/events.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../../lambdas/core/families/in-memory.js';
import type { FamilyLogSink, FamilyReconcileDeps } from '../../lambdas/core/families/ports.js';
import { ignoreProgress } from '../../lambdas/core/families/progress.js';
import { makeHandler } from '../../lambdas/handlers/families-reconcile.js';
import { coderApiMetrics } from '../../lambdas/wiring/coder-connection.js';
import { lambdaDeadline } from '../../lambdas/wiring/deadline.js';
import { createFamilyReconcileDeps } from '../../lambdas/wiring/families.js';
import { intervalScheduler } from '../../lambdas/wiring/scheduler.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';

describe('parseFamiliesReconcileEvent', () => {
  it.each([
    [{ trigger: 'schedule' }, { scope: { kind: 'all' }, dryRun: false, trigger: 'schedule' }],
    [{}, { scope: { kind: 'all' }, dryRun: false, trigger: 'operator' }],
    [null, { scope: { kind: 'all' }, dryRun: false, trigger: 'operator' }],
    [{ dryRun: true }, { scope: { kind: 'all' }, dryRun: true, trigger: 'operator' }],
    [
      { family: 'alice/team', dryRun: true },
      { scope: { kind: 'family', owner: 'alice', parent: 'team' }, dryRun: true, trigger: 'operator' },
    ],
    [
      { dryRun: true, at: '2026-03-09T07:00:00-05:00' },
      { scope: { kind: 'all' }, dryRun: true, trigger: 'operator', at: '2026-03-09T07:00:00-05:00' },
    ],
  ])('%j', (event, expected) => {
    expect(parseFamiliesReconcileEvent(event)).toEqual(expected);
  });

  it.each([
    [{ Records: [] }, /must hold exactly one message.*held 0/],
    [{ Records: [{ eventSource: 'aws:sqs', body: '{"trigger":' }] }, /the SQS message body is not JSON/],
    [{ Records: [{ eventSource: 'aws:sqs', body: '{"trigger":"continuation","token":"x"}' }] }, /token/],
  ])('rejects a malformed continuation message %#', (event, message) => {
    expect(() => parseFamiliesReconcileEvent(event)).toThrow(message);
  });

  it('refuses a continuation of more than 500 families, saying so', () => {
    const families = Array.from({ length: 501 }, (_, i) => `alice/p${i}`);
    expect(() => parseFamiliesReconcileEvent({ trigger: 'continuation', families })).toThrow(
      /families: Too big: expected array to have <=500 items/,
    );
  });

  it('takes a continuation: the carried families, in order', () => {
    expect(
      parseFamiliesReconcileEvent({ trigger: 'continuation', families: ['alice/team', 'bob.smith/lab-2'] }),
    ).toEqual({
      scope: {
        kind: 'families',
        families: [
          { owner: 'alice', parent: 'team' },
          { owner: 'bob.smith', parent: 'lab-2' },
        ],
      },
      dryRun: false,
      trigger: 'continuation',
    });
  });

  it.each([
    [{ family: 'alice/team', families: ['alice/lab'] }, /families: give "family" or "families", not both/],
    [{ families: [] }, /families/],
    [{ families: ['team'] }, /families\[0\]: must be "<owner>\/<parent workspace>"/],
    [{ family: 'team' }, /family: must be "<owner>\/<parent workspace>"/],
    [{ dryRun: 'yes' }, /dryRun/],
    [{ trigger: 'webhook' }, /trigger/],
    [{ famliy: 'alice/team' }, /Unrecognized key/],
    ['reconcile please', /\(event\)/],
    [{ at: '2026-03-09T12:00:00Z' }, /at: plans for another time only in a dry run/],
    [{ dryRun: false, at: '2026-03-09T12:00:00Z' }, /at: plans for another time only in a dry run/],
    [{ dryRun: true, at: '2026-03-09 12:00' }, /at: must be an ISO 8601 date-time with a zone/],
  ])('rejects %j clearly', (event, message) => {
    expect(() => parseFamiliesReconcileEvent(event)).toThrow(FamiliesReconcileEventError);
    expect(() => parseFamiliesReconcileEvent(event)).toThrow(message);
  });
});

/** The handler when the test expects a run, not a deferral (which fails the test, saying so). */
const reporting =
  (run: ReturnType<typeof makeHandler>) =>
  async (...args: Parameters<ReturnType<typeof makeHandler>>) => {
    const result = await run(...args);
    if ('deferred' in result) throw new Error(`expected a run, got a deferral: ${result.deferred}`);
    return result;
  };

describe('families-reconcile handler', () => {
  let sim: CoderSimulator;
  let engine: FamilyReconcileDeps;
  let locks: InMemoryFamilyLocks;
  let client: CoderClient;
  const lines: Array<{ level: string; message: string; family?: string }> = [];
  const metrics: Array<[string, number]> = [];
  const log: FamilyLogSink = {
    debug: (message) => lines.push({ level: 'debug', message }),
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    error: (message) => lines.push({ level: 'error', message }),
    forFamily: (family) => ({
      debug: (message) => lines.push({ level: 'debug', message, family }),
      info: (message) => lines.push({ level: 'info', message, family }),
      warn: (message) => lines.push({ level: 'warn', message, family }),
      error: (message) => lines.push({ level: 'error', message, family }),
    }),
  };
  const metricsSink = {
    addMetric(name: string, _unit: unknown, value: number) {
      metrics.push([name, value]);
    },
  } as unknown as Pick<Metrics, 'addMetric'>;
  const handler = () => reporting(makeHandler({ engine, metrics: metricsSink }));

  beforeEach(async () => {
    lines.length = 0;
    metrics.length = 0;
    sim = await startCoderSimulator({ buildDurationMs: 10, rateLimit: false });
    sim.seed.user({ username: 'alice' });
    sim.seed.template({ name: 'dev', parameters: [{ name: 'additional_workspaces', defaultValue: '0' }] });
    sim.seed.workspace({
      owner: 'alice',
      name: 'team',
      template: 'dev',
      parameters: { additional_workspaces: '2' },
    });
    sim.seed.workspace({
      owner: 'alice',
      name: 'solo',
      template: 'dev',
      parameters: { additional_workspaces: '1' },
    });
    const config = familiesConfigSchema.parse({ templates: ['dev'] });
    client = new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false });
    locks = new InMemoryFamilyLocks();
    engine = {
      config,
      workspaces: new CoderFamilyWorkspaces({
        client,
        templates: config.templates,
        organization: config.organization,
      }),
      ledger: new InMemoryFamilyLedger(),
      locks,
      timers: intervalScheduler,
      now: () => new Date(),
      newRunId: () => randomUUID(),
      log,
      progress: ignoreProgress,
      capacity: ampleProvisioners(),
    };
  });
  afterEach(async () => {
    await sim.close();
  });

  it('plans against the Lambda context: with no time left it returns a cut-short report, not a timeout', async () => {
    const context = { deadline: lambdaDeadline({ getRemainingTimeInMillis: () => 3_500 }) };

    const report = await handler()({ trigger: 'schedule' }, context);

    expect(report.incomplete).toMatchObject({ reason: 'deadline' });
    expect(report.failures).toBe(0);
    expect(metrics).toContainEqual(['FamiliesRunCutShort', 1]);
    expect(sim.workspacesSnapshot()).toHaveLength(2);
    // Nothing was left locked: the next run, with time, does the work.
    const next = await handler()(
      { trigger: 'schedule' },
      { deadline: lambdaDeadline({ getRemainingTimeInMillis: () => 300_000 }) },
    );
    expect(next.incomplete).toBeUndefined();
    expect(next.summary.created).toBe(3);
    // One adapter serves every run: a warm steady run is the template check and one list page, no /users/me.
    const steady = await handler()(
      { trigger: 'schedule' },
      { deadline: lambdaDeadline({ getRemainingTimeInMillis: () => 300_000 }) },
    );
    expect(steady.coder.requests).toBe(2);
  });

  it('fails a run whose configured template Coder no longer has, with the name and did-you-mean, and publishes FamilyTemplatesUnknown', async () => {
    // Prepare: an admin renames the template the config names.
    const template = (await client.listTemplates()).find((t) => t.name === 'dev');
    await fetch(`${sim.url}/api/v2/templates/${template?.id}`, {
      method: 'PATCH',
      headers: { 'Coder-Session-Token': sim.adminToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'devs' }),
    });

    // Act
    const run = handler()({ trigger: 'schedule' });

    // Assess: refused, named, counted; nothing created. A green run publishes 0 again.
    await expect(run).rejects.toThrow(/"dev"; did you mean "devs"\?: no such template in Coder/);
    expect(metrics).toEqual([['FamilyTemplatesUnknown', 1]]);
    expect(sim.workspacesSnapshot()).toHaveLength(2);
    engine = { ...engine, config: { ...engine.config, templates: ['devs'] } };
    metrics.length = 0;
    await handler()({ trigger: 'schedule' });
    expect(Object.fromEntries(metrics)).toMatchObject({ FamilyTemplatesUnknown: 0, FamiliesPartialView: 0 });
  });

  describe("paced by Coder's provisioners (3 built-in daemons: one job at a time)", () => {
    const paced = () => ({
      ...engine,
      capacity: new CoderProvisionerCapacity({ client, organization: 'default', templates: ['dev'] }),
    });
    /** A continuation queue that keeps what it is sent, delivered as the SQS event source would. */
    const memoryQueue = () => {
      const sent: Array<{ event: ContinuationEvent; delaySeconds: number }> = [];
      return {
        sent,
        send: async (event: ContinuationEvent, delaySeconds: number) =>
          void sent.push({ event, delaySeconds }),
        deliver: (event: ContinuationEvent) => ({
          Records: [{ eventSource: 'aws:sqs', body: JSON.stringify(event) }],
        }),
      };
    };

    it('sends a continuation for the families it had no slot for; scheduled runs defer to it, then supersede it; they converge', async () => {
      const queue = memoryQueue();
      const continuations = { queue, locks };
      let offsetMs = 0;
      const clock = () => new Date(Date.now() + offsetMs);
      const pacedHandler = makeHandler({
        engine: { ...paced(), now: clock },
        metrics: metricsSink,
        continuations,
      });
      const run = reporting(pacedHandler);

      const first = await run({ trigger: 'schedule' });
      // The next tick, a continuation pending and the last full run recent: left to the continuation.
      const requestsBefore = sim.totalRequests();
      const deferred = await pacedHandler({ trigger: 'schedule', scheduledTime: '2026-12-06T17:05:00Z' });
      const requestsDeferred = sim.totalRequests() - requestsBefore;
      // 31 minutes on, the scheduled run does the full reconcile again and replaces the continuation.
      offsetMs = 31 * 60_000;
      await new Promise((resolve) => setTimeout(resolve, 30)); // the builds finish (10 ms each)
      const third = await run({ trigger: 'schedule' });
      // The first continuation arrives late: it runs, and sends nothing after it (the third's is pending).
      const [late, pending] = queue.sent.splice(0);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const superseded = late ? await run(queue.deliver(late.event)) : undefined;

      expect(first.summary.created).toBe(1);
      expect(first.incomplete).toMatchObject({ reason: 'provisioner-cap' });
      expect(first.continued).toHaveProperty('scheduled');
      expect(deferred).toEqual({
        deferred: expect.stringMatching(/at most every 30 min \(pacing.fullRunMinutesWhileContinuing\)/),
        trigger: 'schedule',
        scheduledTime: '2026-12-06T17:05:00Z',
      });
      expect(requestsDeferred).toBe(0);
      expect(third.continued).toHaveProperty('scheduled');
      expect(late?.delaySeconds).toBe(10);
      // It created the last child, or was refused the lease: either way it sent nothing.
      expect(superseded?.continued === undefined || 'alreadyPending' in superseded.continued).toBe(true);
      expect(queue.sent).toEqual([]);
      // Pacing is not a deadline: no run was cut short.
      expect(metrics).toContainEqual(['FamiliesRunCutShort', 0]);
      expect(metrics).not.toContainEqual(['FamiliesRunCutShort', 1]);

      // The pending continuation arrives; each run sends the next; the last sends none.
      if (pending) queue.sent.push(pending);
      for (let n = 0; n < 5 && queue.sent.length > 0; n++) {
        const [next] = queue.sent.splice(0);
        await new Promise((resolve) => setTimeout(resolve, 30));
        if (next) await run(queue.deliver(next.event));
      }
      expect(queue.sent).toEqual([]);
      expect(
        sim
          .workspacesSnapshot()
          .map((w) => w.name)
          .sort(),
      ).toEqual(['solo', 'solo-1', 'team', 'team-1', 'team-2']);
      // Caught up: no continuation pending, so the next scheduled run is a full one.
      expect(await pacedHandler({ trigger: 'schedule' })).toHaveProperty('actions');
    });

    it('loses nothing when the continuation cannot be sent: says so, counts it, the schedule carries on', async () => {
      const failing = {
        send: async () => {
          throw Object.assign(new Error('Access to the resource is denied.'), { name: 'AccessDenied' });
        },
      };

      const report = await reporting(
        makeHandler({
          engine: paced(),
          metrics: metricsSink,
          continuations: { queue: failing, locks },
        }),
      )({
        trigger: 'schedule',
      });

      expect(report.summary.created).toBe(1);
      expect(report.continued).toEqual({
        notScheduled: expect.stringMatching(/denied.*the next scheduled run continues.*sqs:SendMessage/),
      });
      expect(metrics).toContainEqual(['FamilyContinuationFailed', 1]);
      expect(lines.some((l) => l.level === 'warn' && /could not send the continuation/.test(l.message))).toBe(
        true,
      );
      // The lease was given back: the next paced run may send one.
      const retried = await reporting(
        makeHandler({
          engine: paced(),
          metrics: metricsSink,
          continuations: { queue: memoryQueue(), locks },
        }),
      )({ trigger: 'continuation', families: ['alice/team', 'alice/solo'] });
      expect(retried.continued).toHaveProperty('scheduled');
    });
  });

  it('previews with {"dryRun":true}: the plan with reasons, no change, no metrics', async () => {
    const report = await handler()({ dryRun: true });

    expect(report.actions.map((a) => [a.kind, a.outcome, a.reason])).toEqual([
      ['create-child', 'planned', 'child 1 of 1 is missing'],
      ['create-child', 'planned', 'child 1 of 2 is missing'],
      ['create-child', 'planned', 'child 2 of 2 is missing'],
    ]);
    expect(sim.workspacesSnapshot()).toHaveLength(2);
    expect(metrics).toEqual([]);
  });

  it('runs the scheduled reconcile, publishes the run metrics and logs the family key on every family line', async () => {
    const report = await handler()({ trigger: 'schedule' });

    expect(report.summary.created).toBe(3);
    expect(Object.fromEntries(metrics)).toMatchObject({
      Families: 2,
      FamilyChildrenMissing: 3,
      FamilyChildrenCreated: 3,
      FamilyChildrenRemoved: 0,
      FamilyConflicts: 0,
      FamilyFailures: 0,
      FamiliesHardLimited: 0,
    });
    const actionLines = lines.filter((l) => l.message.startsWith('family action'));
    expect(actionLines).toHaveLength(3);
    expect(actionLines.every((l) => l.family === 'alice/team' || l.family === 'alice/solo')).toBe(true);
  });

  it('publishes the Coder API counts once per run: the middleware owns them, not the run metrics', async () => {
    // Prepare: the same middleware lambdaHandler registers for this function.
    const middleware = coderApiMetrics(metricsSink, () => client.stats());
    middleware.before();
    // Act
    const report = await handler()({ trigger: 'schedule' });
    middleware.after();
    // Assess
    const published = (name: string) => metrics.filter(([n]) => n === name);
    expect(published('CoderApiRequests')).toEqual([['CoderApiRequests', report.coder.requests]]);
    expect(published('CoderApiThrottled')).toEqual([['CoderApiThrottled', 0]]);
  });

  it("reports the schedule's scheduled time back", async () => {
    const report = await handler()({
      trigger: 'schedule',
      scheduledTime: '2026-03-09T12:05:00Z',
      dryRun: true,
    });
    expect(report).toMatchObject({ scheduledTime: '2026-03-09T12:05:00Z', dryRun: true });
  });

  it('a dry run with "at" counts the grace period to that time; without it, to now', async () => {
    // Prepare: team's children exist, then its parent is deleted and a real run notices.
    await handler()({ trigger: 'schedule' });
    sim.advanceBuilds();
    const parent = sim.workspacesSnapshot().find((w) => w.name === 'team');
    if (!parent) throw new Error('team not seeded');
    await client.deleteWorkspace(parent.id);
    sim.advanceBuilds();
    const noticed = await handler()({ trigger: 'schedule' });
    expect(noticed.actions.map((a) => a.kind)).toContain('record-parent-missing');
    const grace = engine.config.gracePeriodMs;
    const after = new Date(Date.now() + grace + 60_000).toISOString();

    // Act
    const now = await handler()({ dryRun: true, family: 'alice/team' });
    const later = await handler()({ dryRun: true, family: 'alice/team', at: after });

    // Assess: now it waits; at `after` the children would go; nothing was removed.
    expect(now.actions.map((a) => [a.kind, a.outcome])).toEqual([['grace-wait', 'skipped']]);
    expect(now).not.toHaveProperty('at');
    expect(later).toMatchObject({ dryRun: true, at: after });
    expect(later.actions.map((a) => [a.kind, a.outcome])).toEqual([
      ['delete-child', 'planned'],
      ['delete-child', 'planned'],
    ]);
    expect(
      sim
        .workspacesSnapshot()
        .map((w) => w.name)
        .filter((name) => name.startsWith('team-'))
        .sort(),
    ).toEqual(['team-1', 'team-2']);
  });

  it('refuses "at" outside a dry run: a real run always plans for now', async () => {
    await expect(handler()({ trigger: 'schedule', at: '2026-03-09T12:00:00Z' })).rejects.toThrow(
      FamiliesReconcileEventError,
    );
    expect(sim.workspacesSnapshot()).toHaveLength(2);
  });

  it('reconciles one family with {"family":"alice/team"}', async () => {
    const report = await handler()({ family: 'alice/team' });

    expect(report.families).toBe(1);
    expect(report.actions.map((a) => ('childName' in a ? a.childName : ''))).toEqual(['team-1', 'team-2']);
  });

  it('reports a family another run holds instead of waiting for it', async () => {
    await locks.tryAcquire('family#alice/team', 'webhook-run', 60_000, Date.now());

    const report = await handler()({ family: 'alice/team' });

    expect(report.skippedLocked).toEqual(['alice/team']);
    expect(report.actions).toEqual([]);
    expect(lines.some((l) => l.family === 'alice/team' && l.message.includes('another run'))).toBe(true);
  });
});

describe('createFamilyReconcileDeps', () => {
  const env = {
    FAMILIES_CONFIG: JSON.stringify({ templates: ['dev'], removalPolicy: 'stop' }),
    LEDGER_TABLE_NAME: 'ledger',
    LOCK_TABLE_NAME: 'locks',
    CODER_URL: 'https://coder.example.com',
    CODER_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:coder-token',
  };

  it('builds the engine from the environment once per container', () => {
    const deps = createFamilyReconcileDeps(env);
    expect(deps.config).toMatchObject({ templates: ['dev'], removalPolicy: 'stop', gracePeriodMs: 600_000 });
    expect(createFamilyReconcileDeps(env)).toBe(deps);
  });

  it('names what is missing or invalid', () => {
    expect(() => createFamilyReconcileDeps({ ...env, LOCK_TABLE_NAME: '' })).toThrow(
      /LOCK_TABLE_NAME is not set/,
    );
    expect(() =>
      createFamilyReconcileDeps({ ...env, FAMILIES_CONFIG: '{"templates":[],"maxChildren":0}' }),
    ).toThrow(ConfigError);
    expect(() =>
      createFamilyReconcileDeps({ ...env, FAMILIES_CONFIG: '{"templates":[],"maxChildren":0}' }),
    ).toThrow(/maxChildren/);
  });
});
