import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { InMemoryFamilyQueue } from '../../lambdas/adapters/aws/family-queue.js';
import type { ReconcileReport, ReconcileRequest } from '../../lambdas/core/families/run.js';
import { retryDelaySeconds } from '../../lambdas/core/families/webhook/redelivery.js';
import type { FamilyWorkItem } from '../../lambdas/core/families/webhook/work-item.js';
import { makeWorkerHandler, WORKER_METRICS } from '../../lambdas/handlers/families-worker.js';
import { lambdaDeadline } from '../../lambdas/wiring/deadline.js';
import { IDS } from '../core/families/webhook/fixtures.js';
import { recordingLog, recordingMetrics } from '../core/families/webhook/function-url.js';

const OTHER_OWNER = '11111111-2222-4333-8444-555555555555';

const item = (n: number, overrides: Partial<FamilyWorkItem> = {}): FamilyWorkItem => ({
  v: 1,
  source: 'notification',
  event: 'workspace_created',
  messageId: `msg-00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  workspaceId: IDS.workspace,
  workspaceName: 'my-team',
  ownerId: IDS.owner,
  ownerName: 'alice',
  ...overrides,
});

const report = (overrides: Partial<ReconcileReport> = {}): ReconcileReport => ({
  runId: 'run-1',
  trigger: 'webhook',
  dryRun: false,
  families: 1,
  actions: [],
  skippedLocked: [],
  lockLost: [],
  view: 'complete',
  failures: 0,
  conflicts: 0,
  coder: { requests: 3, throttled: 0 },
  summary: { childrenMissing: 0, created: 0, removed: 0, hardLimited: 0, durationMs: 5 },
  ...overrides,
});

const setup = (reconcile: (request: ReconcileRequest) => Promise<ReconcileReport>) => {
  let now = 0;
  const queue = new InMemoryFamilyQueue({ now: () => now, visibilityTimeoutMs: 360_000 });
  const log = recordingLog();
  const metrics = recordingMetrics();
  const handler = makeWorkerHandler({ reconcile, retries: queue, log: log.sink, metrics: metrics.metrics });
  /** One event source poll: receive a batch, invoke, settle like Lambda does. */
  const poll = async () => {
    const records = queue.receive();
    const response = await handler({ Records: records });
    const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
    queue.settle(records, failed);
    return { records, failed };
  };
  return { queue, log, metrics, poll, advance: (ms: number) => (now += ms) };
};

describe('families worker', () => {
  it('reconciles the family of the workspace the event named, as a webhook-triggered run', async () => {
    // Prepare
    const requests: ReconcileRequest[] = [];
    const { queue, poll, metrics } = setup(async (request) => {
      requests.push(request);
      return report();
    });
    await queue.enqueue([item(1)]);

    // Act
    const { failed } = await poll();

    // Assess
    expect(failed).toEqual([]);
    expect(requests).toEqual([
      {
        scope: { kind: 'workspace', workspaceId: IDS.workspace, owner: 'alice', name: 'my-team' },
        dryRun: false,
        trigger: 'webhook',
      },
    ]);
    expect(queue.depth).toBe(0);
    expect(metrics.total(WORKER_METRICS.reconciled)).toBe(1);
  });

  it('passes the invocation deadline on, and puts a cut-short or unstarted message straight back', async () => {
    // Prepare: two messages of different owners; the first run is cut short by the deadline.
    const requests: ReconcileRequest[] = [];
    let left = 60_000;
    const queue = new InMemoryFamilyQueue({ visibilityTimeoutMs: 360_000 });
    const delays: number[] = [];
    const retries = {
      retryAfter: async (_handle: string, seconds: number) => {
        delays.push(seconds);
      },
    };
    const metrics = recordingMetrics();
    const handler = makeWorkerHandler({
      reconcile: async (request) => {
        requests.push(request);
        left = 1_000;
        return report({ incomplete: { reason: 'deadline', familiesLeft: 1, detail: 'out of time' } });
      },
      retries,
      log: recordingLog().sink,
      metrics: metrics.metrics,
    });
    await queue.enqueue([item(1), item(2, { ownerId: OTHER_OWNER, ownerName: 'bob' })]);

    // Act
    const context = { getRemainingTimeInMillis: () => left } as never;
    const response = await handler(
      { Records: queue.receive() },
      { context, deadline: lambdaDeadline(context) },
    );

    // Assess: one reconcile with a deadline; both messages back at once, counted as cut short.
    expect(requests).toHaveLength(1);
    expect(requests[0]?.deadline?.remainingMs()).toBeLessThan(1_000);
    expect(response.batchItemFailures).toHaveLength(2);
    expect(delays).toEqual([0, 0]);
    expect(metrics.total(WORKER_METRICS.cutShort)).toBe(2);
  });

  it("publishes the engine's per-run figures once per message, so a batch's runs stay separate", async () => {
    const published: string[] = [];
    const runMetrics = {
      addMetric: (name: string, _unit: string, value: number) => {
        published.push(`${name}=${value}`);
      },
      publishStoredMetrics: () => {
        published.push('flush');
      },
    };
    const queue = new InMemoryFamilyQueue();
    const handler = makeWorkerHandler({
      reconcile: async () =>
        report({ summary: { childrenMissing: 3, created: 3, removed: 0, hardLimited: 0, durationMs: 9 } }),
      log: recordingLog().sink,
      metrics: recordingMetrics().metrics,
      runMetrics,
    });
    await queue.enqueue([item(1), item(2, { ownerId: OTHER_OWNER })]);

    await handler({ Records: queue.receive() });

    expect(published.filter((p) => p === 'flush')).toHaveLength(2);
    expect(published).toContain('FamilyChildrenCreated=3');
    // The coderApiMetrics middleware publishes the Coder API counts once per invocation.
    expect(published.filter((p) => p.startsWith('CoderApi'))).toEqual([]);
  });

  it('passes only the workspace id when the event named neither owner nor name', async () => {
    const requests: ReconcileRequest[] = [];
    const { queue, poll } = setup(async (request) => {
      requests.push(request);
      return report();
    });
    const { ownerName: _o, workspaceName: _w, ...bare } = item(1);
    await queue.enqueue([bare]);

    await poll();

    expect(requests[0]?.scope).toEqual({ kind: 'workspace', workspaceId: IDS.workspace });
  });

  it('fails a message whose family another run holds, and brings it back within seconds', async () => {
    let locked = true;
    const { queue, poll, advance, metrics } = setup(async () =>
      report(locked ? { skippedLocked: ['alice/my-team'] } : {}),
    );
    await queue.enqueue([item(1)]);

    const first = await poll();
    expect(first.failed).toHaveLength(1);
    expect(metrics.total(WORKER_METRICS.deferredLocked)).toBe(1);
    advance(retryDelaySeconds('locked', 1) * 1000 - 1);
    expect(queue.receive()).toEqual([]);

    advance(1);
    locked = false;
    const second = await poll();

    expect(second.records).toHaveLength(1);
    expect(second.failed).toEqual([]);
    expect(queue.depth).toBe(0);
  });

  it('fails a message whose reconcile reported failures, backing off exponentially', async () => {
    const { queue, poll, advance } = setup(async () => report({ failures: 1 }));
    await queue.enqueue([item(1)]);

    await poll();
    advance(30_000);
    expect((await poll()).records).toHaveLength(1);
    advance(30_000);
    expect((await poll()).records).toHaveLength(0);
    advance(30_000);
    expect((await poll()).records).toHaveLength(1);
  });

  it('fails a message whose reconcile threw, logging the error name but no message body', async () => {
    const { queue, poll, log } = setup(async () => {
      throw Object.assign(new Error('Coder unreachable'), { name: 'CoderUnavailableError' });
    });
    await queue.enqueue([item(1)]);

    const { failed } = await poll();

    expect(failed).toHaveLength(1);
    expect(log.lines.join('\n')).toContain('CoderUnavailableError');
    expect(log.lines.join('\n')).not.toContain('"source"');
  });

  it('sends a poison message to the dead-letter queue without holding its group for long', async () => {
    const calls: ReconcileRequest[] = [];
    const { queue, poll, metrics } = setup(async (request) => {
      calls.push(request);
      return report();
    });
    const poison: FamilyWorkItem = { ...item(1), workspaceId: 'not-a-uuid' };
    await queue.enqueue([poison]);

    for (let i = 0; i < 6; i++) await poll();

    expect(calls).toEqual([]);
    expect(queue.deadLetters).toHaveLength(1);
    expect(metrics.total(WORKER_METRICS.poison)).toBe(5);
  });

  it('keeps the order within an owner: after a failure the rest of that owner waits, other owners go on', async () => {
    const seen: string[] = [];
    const { queue, poll } = setup(async (request) => {
      const name = request.scope.kind === 'workspace' ? (request.scope.name ?? '') : '';
      seen.push(name);
      return report(name === 'first' ? { failures: 1 } : {});
    });
    await queue.enqueue([
      item(1, { workspaceName: 'first' }),
      item(2, { workspaceName: 'second' }),
      item(3, { workspaceName: 'elsewhere', ownerId: OTHER_OWNER, ownerName: 'bob' }),
    ]);

    const { failed, records } = await poll();

    expect(seen).toEqual(['first', 'elsewhere']);
    expect(failed).toEqual([records[0]?.messageId, records[1]?.messageId]);
  });

  it('still reports the failure when the visibility change itself fails', async () => {
    const log = recordingLog();
    const handler = makeWorkerHandler({
      reconcile: async () => report({ skippedLocked: ['alice/my-team'] }),
      retries: {
        retryAfter: async () => {
          throw new Error('AccessDenied');
        },
      },
      log: log.sink,
      metrics: recordingMetrics().metrics,
    });
    const queue = new InMemoryFamilyQueue();
    await queue.enqueue([item(1)]);
    const records: SQSRecord[] = queue.receive();

    const response = await handler({ Records: records });

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: records[0]?.messageId }]);
    expect(log.lines.some((l) => l.includes('could not shorten the retry delay'))).toBe(true);
  });
});

describe('retryDelaySeconds', () => {
  it.each([
    ['locked', 1, 10],
    ['locked', 3, 30],
    ['locked', 20, 60],
    ['failed', 1, 30],
    ['failed', 3, 120],
    ['failed', 10, 600],
    ['poison', 4, 0],
  ] as const)('%s after %i receive(s) waits %is', (reason, receives, seconds) => {
    expect(retryDelaySeconds(reason, receives)).toBe(seconds);
  });
});
