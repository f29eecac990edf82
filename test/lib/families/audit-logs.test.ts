/**
 * The audit-log path as synthesized: the subscription filter's pattern, read from the template and
 * evaluated (test/support/filter-pattern.ts, AWS's documented syntax) against coderd's audit line
 * in each shipper's shape (shipped-lines.ts, built from the shippers' documented configurations)
 * and against ordinary lines; the function's on-failure destination; the alarms.
 */
import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_LOG_METRICS } from '../../../lambdas/core/families/webhook/metrics.js';
import { WorkspaceFamilies, type WorkspaceFamiliesProps } from '../../../lib/families/construct.js';
import { distinctRows, ordinaryLines, shippedAuditLines } from '../../core/families/webhook/shipped-lines.js';
import { type SynthResult, synthWithNag } from '../../support/cdk.js';
import { matchesFilterPattern } from '../../support/filter-pattern.js';

type Resource = { Type: string; Properties: Record<string, unknown> };
const LOG_GROUP = '/aws/containerinsights/coder/application';

const synth = (extra: Partial<WorkspaceFamiliesProps> = {}): SynthResult =>
  synthWithNag((stack) => {
    const tokenSecret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'CoderToken',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:coder-token-AbCdEf',
    );
    new WorkspaceFamilies(stack, 'Families', {
      config: { templates: ['dev'] },
      coder: { url: 'https://coder.example.com', tokenSecret },
      ...extra,
    });
  }, 'FamiliesLogsStack');

const resources = (result: SynthResult, type: string): Array<[string, Resource]> =>
  Object.entries(result.template.toJSON().Resources as Record<string, Resource>).filter(
    ([, r]) => r.Type === type,
  );

describe('the families-logs subscription, as synthesized', () => {
  let withLogs: SynthResult;
  let pattern: string;
  beforeAll(() => {
    withLogs = synth({ auditLogGroupName: LOG_GROUP, alarms: { auditLogSilence: Duration.hours(6) } });
    const filters = resources(withLogs, 'AWS::Logs::SubscriptionFilter');
    expect(filters).toHaveLength(1);
    expect(filters[0]?.[1].Properties.LogGroupName).toBe(LOG_GROUP);
    pattern = String(filters[0]?.[1].Properties.FilterPattern);
  });

  it.each(shippedAuditLines(distinctRows))(
    "lets through coderd's audit line from $shipper",
    ({ message }) => {
      expect(matchesFilterPattern(pattern, message)).toBe(true);
    },
  );

  it.each(ordinaryLines())('keeps back $what', ({ message }) => {
    expect(matchesFilterPattern(pattern, message)).toBe(false);
  });

  it('gives the function an on-failure queue after its retries, with an alarm', () => {
    const [[functionId]] = resources(withLogs, 'AWS::Lambda::Function').filter(([id]) =>
      id.startsWith('FamiliesAuditLogsFunction'),
    ) as [[string, Resource]];
    const queues = resources(withLogs, 'AWS::SQS::Queue').filter(([id]) =>
      id.startsWith('FamiliesAuditLogsDlq'),
    );
    expect(queues).toHaveLength(1);
    const [queueId] = queues[0] as [string, Resource];
    withLogs.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    withLogs.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-audit-logs-dlq'),
    });
    expect(withLogs.nagErrors).toEqual([]);
  });

  it('alarms when no audit entry arrives for the configured hours, missing data counting as silence', () => {
    withLogs.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CoderFleetController',
      MetricName: AUDIT_LOG_METRICS.received,
      Dimensions: [{ Name: 'service', Value: 'families-logs' }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-audit-logs-silent'),
    });
  });
});

describe('the families-logs options', () => {
  it('has no silence alarm unless asked, and no subscription without a log group', () => {
    const quiet = synth({ auditLogGroupName: LOG_GROUP });
    const alarmMetrics = resources(quiet, 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties.MetricName);
    expect(alarmMetrics).not.toContain(AUDIT_LOG_METRICS.received);
    expect(alarmMetrics).toContain('ApproximateNumberOfMessagesVisible');
    expect(resources(synth(), 'AWS::Logs::SubscriptionFilter')).toEqual([]);
  });

  it.each([Duration.minutes(30), Duration.minutes(90), Duration.hours(25)])(
    'refuses a silence of %s',
    (after) => {
      expect(() => synth({ auditLogGroupName: LOG_GROUP, alarms: { auditLogSilence: after } })).toThrow(
        /alarms\.auditLogSilence: whole hours from 1 to 24/,
      );
    },
  );
});
