import { gzipSync } from 'node:zlib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { InMemoryFamilyQueue } from '../../lambdas/adapters/aws/family-queue.js';
import { WEBHOOK_IGNORED_REASONS, WEBHOOK_METRICS } from '../../lambdas/core/families/webhook/metrics.js';
import { makeLogsHandler } from '../../lambdas/handlers/families-logs.js';
import { makeWebhookHandler } from '../../lambdas/handlers/families-webhook.js';
import { WorkspaceFamilies } from '../../lib/families/construct.js';
import { flatBuildAudit, IDS, slogAuditLine } from '../core/families/webhook/fixtures.js';
import {
  functionUrlEvent,
  PATH_SECRET,
  recordingLog,
  recordingMetrics,
} from '../core/families/webhook/function-url.js';
import { synthWithNag } from '../support/cdk.js';

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

    expect(report).toEqual({ events: 2, accepted: 1, ignored: 1, invalid: 0 });
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
      accepted: 0,
      ignored: 0,
      invalid: 0,
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

  it('makes the construct subscribe a Lambda to $.msg = "audit_log" only when a log group is named', () => {
    const build = (auditLogGroupName?: string) =>
      synthWithNag((stack) => {
        const tokenSecret = secretsmanager.Secret.fromSecretCompleteArn(
          stack,
          'CoderToken',
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:coder-token-AbCdEf',
        );
        new WorkspaceFamilies(stack, 'Families', {
          config: { templates: ['dev'] },
          coder: { url: 'https://coder.example.com', tokenSecret },
          ...(auditLogGroupName ? { auditLogGroupName } : {}),
        });
      }, 'FamiliesLogsStack');

    const { template: withLogs, nagErrors } = build('/aws/containerinsights/coder/application');
    expect(nagErrors).toEqual([]);
    withLogs.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: '/aws/containerinsights/coder/application',
      FilterPattern: '{ $.msg = "audit_log" }',
    });
    expect(Object.keys(build().template.findResources('AWS::Logs::SubscriptionFilter'))).toEqual([]);
  });
});
