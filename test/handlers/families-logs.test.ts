import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InMemoryFamilyQueue } from '../../lambdas/adapters/aws/family-queue.js';
import {
  AUDIT_LOG_METRICS,
  AUDIT_LOG_SHAPE_METRICS,
  WEBHOOK_IGNORED_REASONS,
  WEBHOOK_METRICS,
} from '../../lambdas/core/families/webhook/metrics.js';
import { makeLogsHandler } from '../../lambdas/handlers/families-logs.js';
import { makeWebhookHandler } from '../../lambdas/handlers/families-webhook.js';
import { flatBuildAudit, IDS, slogAuditLine } from '../core/families/webhook/fixtures.js';
import {
  functionUrlEvent,
  PATH_SECRET,
  recordingLog,
  recordingMetrics,
} from '../core/families/webhook/function-url.js';
import { distinctRows, ordinaryLines, shippedAuditLines } from '../core/families/webhook/shipped-lines.js';

/** What CloudWatch Logs hands a subscribed Lambda: base64 of gzip of the subscription payload. */
const awslogsEvent = (messages: string[], messageType = 'DATA_MESSAGE') => ({
  awslogs: {
    data: gzipSync(
      JSON.stringify({
        messageType,
        owner: '123456789012',
        logGroup: '/aws/containerinsights/coder/application',
        logStream: 'coder-7d9f-abcde',
        subscriptionFilters: ['AuditLogSubscription'],
        logEvents: messages.map((message, i) => ({
          id: `3${i}`.padEnd(56, '0'),
          timestamp: 1_748_779_200_000 + i,
          message,
        })),
      }),
    ).toString('base64'),
  },
});

const setup = () => {
  const queue = new InMemoryFamilyQueue();
  const metrics = recordingMetrics();
  const log = recordingLog();
  return {
    queue,
    metrics,
    log,
    handler: makeLogsHandler({ queue, log: log.sink, metrics: metrics.metrics }),
  };
};

describe('families-logs: audit_log lines from a CloudWatch Logs subscription', () => {
  it('queues the workspace of an audit_log line, as Fluent Bit / Container Insights ship it', async () => {
    const { handler, queue, metrics } = setup();
    const line = JSON.stringify(slogAuditLine());

    const report = await handler(
      awslogsEvent([
        JSON.stringify({ log: line, kubernetes: { namespace_name: 'coder' } }),
        'plain text line',
      ]),
    );

    expect(report).toEqual({
      events: 2,
      received: 1,
      accepted: 1,
      ignored: 1,
      invalid: 0,
      shapes: { 'log-string': 1 },
    });
    expect(queue.depth).toBe(1);
    expect(JSON.parse(queue.sent[0]?.body ?? '{}')).toMatchObject({
      source: 'audit',
      event: 'workspace_created',
      workspaceId: IDS.workspace,
      messageId: `audit-${IDS.audit}`,
    });
    expect(metrics.total(WEBHOOK_METRICS.enqueued)).toBe(1);
    expect(metrics.total(WEBHOOK_IGNORED_REASONS['not-audit'])).toBe(1);
  });

  it('is deduplicated with the HTTP path by audit row id', async () => {
    const { handler, queue, metrics, log } = setup();
    const webhook = makeWebhookHandler({
      pathSecrets: async () => [PATH_SECRET],
      queue,
      log: log.sink,
      metrics: metrics.metrics,
    });

    const viaHttp = await webhook(
      functionUrlEvent({ path: `/${PATH_SECRET}/audit`, body: JSON.stringify(slogAuditLine()) }),
    );
    await handler(awslogsEvent([JSON.stringify(slogAuditLine())]));

    expect(viaHttp.statusCode).toBe(202);
    expect(queue.sent.map((s) => s.deduplicationId)).toEqual([`audit-${IDS.audit}`, `audit-${IDS.audit}`]);
    expect(queue.depth).toBe(1);
  });

  it('accepts the fields lifted to the top level, ignores the control message, and drops a malformed event', async () => {
    const { handler, queue, log } = setup();
    const { fields, ...rest } = slogAuditLine();

    expect(await handler(awslogsEvent([JSON.stringify({ ...rest, ...fields })]))).toMatchObject({
      accepted: 1,
    });
    expect(await handler(awslogsEvent([], 'CONTROL_MESSAGE'))).toEqual({
      events: 0,
      received: 0,
      accepted: 0,
      ignored: 0,
      invalid: 0,
      shapes: {},
    });
    expect(await handler({ awslogs: { data: 'bm90IGd6aXA=' } })).toMatchObject({ invalid: 1 });
    expect(
      await handler(awslogsEvent([JSON.stringify(flatBuildAudit({ additional_fields: '{}' }))])),
    ).toMatchObject({
      ignored: 1,
    });
    expect(queue.depth).toBe(1);
    expect(log.lines.join('\n')).toContain('awslogs.data is not base64 of gzipped JSON');
  });

  it.each(shippedAuditLines(distinctRows))(
    'queues the workspace of $shipper, counted as shape $shape',
    async ({ message, shape }) => {
      const { handler, queue, metrics } = setup();

      const report = await handler(awslogsEvent([message]));

      expect(report).toMatchObject({ received: 1, accepted: 1, invalid: 0, shapes: { [shape]: 1 } });
      expect(JSON.parse(queue.sent[0]?.body ?? '{}')).toMatchObject({ event: 'workspace_created' });
      expect(metrics.total(AUDIT_LOG_METRICS.received)).toBe(1);
      expect(metrics.total(AUDIT_LOG_SHAPE_METRICS[shape])).toBe(1);
    },
  );

  it('counts a batch of every shape once each, and ordinary lines not at all', async () => {
    const { handler, queue, metrics } = setup();
    const shipped = shippedAuditLines(distinctRows);

    const report = await handler(
      awslogsEvent([...shipped.map((l) => l.message), ...ordinaryLines().map((l) => l.message)]),
    );

    expect(report).toMatchObject({
      received: shipped.length,
      accepted: shipped.length,
      ignored: ordinaryLines().length,
      invalid: 0,
      shapes: { line: 2, merged: 2, 'log-string': 2, 'cri-line': 1 },
    });
    expect(queue.depth).toBe(shipped.length);
    expect(metrics.total(AUDIT_LOG_METRICS.received)).toBe(shipped.length);
    expect(metrics.total(WEBHOOK_IGNORED_REASONS['not-audit'])).toBe(ordinaryLines().length);
  });

  it('publishes no received datapoint for a batch without audit entries (the silence alarm counts it as silence)', async () => {
    const { handler, metrics } = setup();

    await handler(awslogsEvent(ordinaryLines().map((l) => l.message)));

    expect(metrics.total(AUDIT_LOG_METRICS.received)).toBe(0);
  });
});
