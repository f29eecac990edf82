import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryFamilyQueue } from '../../lambdas/adapters/aws/family-queue.js';
import { type ReconcileRequest, reconcileFamilies } from '../../lambdas/core/families/run.js';
import { makeWebhookHandler } from '../../lambdas/handlers/families-webhook.js';
import { makeWorkerHandler } from '../../lambdas/handlers/families-worker.js';
import { type CoderVersionName, SUPPORTED_PROFILES } from '../../sim/index.js';
import type { NotificationMessage } from '../../sim/types.js';
import { PATH_SECRET, recordingLog, recordingMetrics } from '../core/families/webhook/function-url.js';
import {
  COUNT,
  type FamilyHarness,
  liveWorkspaces,
  mutatingRequests,
  startFamilyHarness,
  TEMPLATE,
} from '../families/harness.js';
import { eventually } from '../sim/http.js';

/** What AWS hands the webhook Lambda for one HTTP request to its Function URL. */
const toFunctionUrlEvent = (req: IncomingMessage, body: string): LambdaFunctionURLEvent => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: 'local.lambda-url.us-east-1.on.aws',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
};

interface EventPath {
  readonly h: FamilyHarness;
  readonly queue: InMemoryFamilyQueue;
  readonly webhookUrl: string;
  /** Every request the worker handed to the engine. */
  readonly reconciles: ReconcileRequest[];
  readonly webhookLog: ReturnType<typeof recordingLog>;
  /** Runs the worker like the SQS event source does until `done()` holds (or throws after a deadline). */
  drainUntil(done: () => boolean, deadlineMs?: number): Promise<void>;
  /** Moves the queue's clock (deduplication window, visibility timeouts) forward. */
  advanceQueueClock(ms: number): void;
  /** POSTs a body to the webhook URL the way Coder does. */
  deliver(message: NotificationMessage): Promise<number>;
  close(): Promise<void>;
}

/**
 * Coder (the simulator) → HTTP → the webhook handler behind a Function URL shim → an in-memory
 * SQS FIFO queue → the worker → the engine's real reconcile (CoderClient over HTTP, ledger and
 * locks on dynalite). No scheduled reconcile runs anywhere.
 */
const startEventPath = async (coderVersion: CoderVersionName): Promise<EventPath> => {
  let queueNow = Date.now();
  const queue = new InMemoryFamilyQueue({ now: () => queueNow, visibilityTimeoutMs: 720_000 });
  const webhookLog = recordingLog();
  const webhook = makeWebhookHandler({
    pathSecrets: async () => [PATH_SECRET],
    queue,
    log: webhookLog.sink,
    metrics: recordingMetrics().metrics,
  });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void webhook(toFunctionUrlEvent(req, Buffer.concat(chunks).toString('utf8'))).then((result) => {
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
        res.end(result.body ?? '');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const webhookUrl = `http://127.0.0.1:${port}/${PATH_SECRET}`;

  const h = await startFamilyHarness({ sim: { webhookUrl, buildDurationMs: 20, coderVersion } });
  const reconciles: ReconcileRequest[] = [];
  const worker = makeWorkerHandler({
    reconcile: (request) => {
      reconciles.push(request);
      return reconcileFamilies(h.deps, request);
    },
    retries: queue,
    log: recordingLog().sink,
    metrics: recordingMetrics().metrics,
  });

  const drainUntil = async (done: () => boolean, deadlineMs = 15_000): Promise<void> => {
    const deadline = Date.now() + deadlineMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error('the event path did not settle in time');
      const records = queue.receive(10);
      if (records.length === 0) {
        // Messages waiting out a retry delay wait on the queue's clock; let it pass like real time would.
        if (queue.depth > 0) queueNow += 1_000;
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const response = await worker({ Records: records });
      queue.settle(
        records,
        response.batchItemFailures.map((f) => f.itemIdentifier),
      );
    }
  };

  const deliver = async (message: NotificationMessage): Promise<number> => {
    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Message-Id': message.msg_id },
      body: JSON.stringify(message),
    });
    await response.arrayBuffer();
    return response.status;
  };

  return {
    h,
    queue,
    webhookUrl,
    reconciles,
    webhookLog,
    drainUntil,
    advanceQueueClock: (ms) => {
      queueNow += ms;
    },
    deliver,
    async close() {
      await h.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const childNames = (path: EventPath, parent: string) =>
  [...liveWorkspaces(path.h.sim).keys()].filter((name) => name.startsWith(`${parent}-`)).sort();

describe.each(SUPPORTED_PROFILES)(
  'webhook → queue → worker → children (no scheduled reconcile), Coder %s',
  (coderVersion) => {
    let path: EventPath;
    beforeEach(async () => {
      path = await startEventPath(coderVersion);
    });
    afterEach(async () => {
      await path.close();
    });

    it('creates three children when a user creates my-team with additional_workspaces=3, and a redelivery creates nothing', async () => {
      // Prepare: alice creates her parent workspace through the API, as she would in the dashboard.
      const template = (await path.h.client.listTemplates()).find((t) => t.name === TEMPLATE);
      if (!template?.organization_id) throw new Error('template not seeded');
      await path.h.userClient('alice').createWorkspace(template.organization_id, 'alice', {
        name: 'my-team',
        template_id: template.id,
        rich_parameter_values: [
          { name: COUNT, value: '3' },
          { name: 'cpu', value: '8' },
        ],
      });

      // Act: Coder's webhook delivers; the worker drains the queue.
      await path.drainUntil(() => childNames(path, 'my-team').length === 3);
      // Coder also notifies about the children the controller created; let those settle too.
      await path.drainUntil(() => path.queue.depth === 0 && childNames(path, 'my-team').length === 3);

      // Assess: three children with the parent's parameters and the count set to 0.
      expect(childNames(path, 'my-team')).toEqual(['my-team-1', 'my-team-2', 'my-team-3']);
      path.h.sim.advanceBuilds();
      for (const name of childNames(path, 'my-team')) {
        const child = await path.h.client.getWorkspaceByOwnerAndName('alice', name);
        const parameters = await path.h.client.getBuildParameters(child?.latest_build.id ?? '');
        expect(Object.fromEntries(parameters.map((p) => [p.name, p.value]))).toMatchObject({
          [COUNT]: '0',
          cpu: '8',
        });
      }
      expect(path.reconciles.length).toBeGreaterThan(0);
      for (const request of path.reconciles) {
        expect(request).toMatchObject({ trigger: 'webhook', dryRun: false, scope: { kind: 'workspace' } });
      }
      // The simulator records a delivery once the webhook's answer is read, which can come after the
      // queue has drained: wait on its log, not on the children.
      const created = await eventually(
        () =>
          path.h.sim
            .webhookDeliveries()
            .filter((d) => d.notificationName === 'Workspace Created' && d.status === 202),
        (accepted) => accepted.length >= 1,
      );
      expect(created.length).toBeGreaterThanOrEqual(1);

      // Act again: the first Workspace Created message about my-team is delivered twice more, within
      // the queue's deduplication window and after it (a minutes-late Coder retry).
      const original = path.h.sim
        .notifications()
        .find(
          (n) =>
            n.payload.notification_name === 'Workspace Created' && n.payload.labels.workspace === 'my-team',
        );
      if (!original) throw new Error('no Workspace Created notification for my-team');
      const mutationsBefore = mutatingRequests(path.h.sim);
      const reconcilesBefore = path.reconciles.length;

      // Within SQS FIFO's 5-minute deduplication window: accepted, and dropped by the queue.
      expect(await path.deliver(original)).toBe(202);
      expect(path.queue.depth).toBe(0);

      // After the window (Coder's retries can come minutes late): queued again, reconciled, nothing created.
      path.advanceQueueClock(300_001);
      expect(await path.deliver(original)).toBe(202);
      expect(path.queue.depth).toBe(1);
      await path.drainUntil(() => path.queue.depth === 0);

      // Assess: one more reconcile ran, and it changed nothing in Coder.
      expect(path.reconciles.length).toBe(reconcilesBefore + 1);
      expect(mutatingRequests(path.h.sim)).toBe(mutationsBefore);
      expect(childNames(path, 'my-team')).toEqual(['my-team-1', 'my-team-2', 'my-team-3']);
      expect(path.webhookLog.lines.join('\n')).not.toContain('@example.com');
    });
  },
);

describe('a Coder older than supported (2.20: notifications without targets)', () => {
  let path: EventPath;
  beforeEach(async () => {
    path = await startEventPath('2.20');
  });
  afterEach(async () => {
    await path.close();
  });

  it('acts on "Workspace Deleted" by owner and name instead of answering 400', async () => {
    // Prepare: a family whose parent an admin then deletes.
    const template = (await path.h.client.listTemplates()).find((t) => t.name === TEMPLATE);
    if (!template?.organization_id) throw new Error('template not seeded');
    const parent = await path.h.userClient('alice').createWorkspace(template.organization_id, 'alice', {
      name: 'my-team',
      template_id: template.id,
      rich_parameter_values: [{ name: COUNT, value: '1' }],
    });
    await path.drainUntil(() => childNames(path, 'my-team').length === 1);
    path.h.sim.advanceBuilds();

    // Act
    await path.h.client.deleteWorkspace(parent.id);
    path.h.sim.advanceBuilds();
    const deleted = await (async () => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const found = path.h.sim.webhookDeliveries().find((d) => d.notificationName === 'Workspace Deleted');
        if (found || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    await path.drainUntil(() => path.queue.depth === 0);

    // Assess: accepted (no redelivery storm), and reconciled by owner and name.
    const message = path.h.sim
      .notifications()
      .find((n) => n.payload.notification_name === 'Workspace Deleted');
    expect(message && 'targets' in message.payload).toBe(false);
    expect(deleted?.status).toBe(202);
    expect(path.reconciles.at(-1)?.scope).toEqual({ kind: 'workspace', owner: 'alice', name: 'my-team' });
  });
});
