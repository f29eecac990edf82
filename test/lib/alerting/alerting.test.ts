/**
 * Alarms that reach a person: read from the synthesized template, not from our own constructs.
 * CloudWatch must be allowed to publish to each topic and to use its key (a topic policy with only
 * the enforce-SSL Deny fails in a real account with "no resource-based policy allows the
 * SNS:Publish action"); each alarm has a severity that routes it; silence alarms.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seed004ControllerConfig } from '../../../config/seed-004.js';
import { CoderFleetController } from '../../../lib/coder-fleet-controller.js';
import { type SynthResult, synthWithNag } from '../../support/cdk.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = {
  Effect: string;
  Principal?: { Service?: string };
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
};

/** aws:SourceAccount is this account and aws:SourceArn any alarm of it (the partition is `{Ref: AWS::Partition}`). */
const expectOwnAlarmsOnly = (condition: Statement['Condition']) => {
  expect(Object.keys(condition ?? {}).sort()).toEqual(['ArnLike', 'StringEquals']);
  expect(condition?.StringEquals).toEqual({ 'aws:SourceAccount': '123456789012' });
  expect(Object.keys(condition?.ArnLike ?? {})).toEqual(['aws:SourceArn']);
  expect(JSON.stringify(condition?.ArnLike)).toContain(':cloudwatch:us-east-1:123456789012:alarm:*');
};
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The severity each runbook section starts with (`**High.**`). */
const runbookSeverities = (): Map<string, string> => {
  const markdown = readFileSync(path.resolve('docs/RUNBOOK.md'), 'utf8');
  const out = new Map<string, string>();
  for (const m of markdown.matchAll(/^### ([a-z0-9-]+)\n\*\*(Critical|High|Medium)/gm)) {
    out.set(m[1] ?? '', m[2] ?? '');
  }
  return out;
};

describe('alarm delivery and severity routing (seed 004 configuration)', () => {
  let synth: SynthResult;
  let resources: Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  beforeAll(() => {
    synth = synthWithNag(
      (stack) =>
        new CoderFleetController(stack, 'Controller', {
          config: {
            ...seed004ControllerConfig,
            alarms: {
              ...seed004ControllerConfig.alarms,
              subscriptions: { critical: { https: ['https://events.pagerduty.example/integration/abc'] } },
            },
          },
        }),
    );
    resources = synth.template.toJSON().Resources as Record<string, Resource>;
  });

  it('lets CloudWatch alarms of this account, and only those, publish to every topic', () => {
    const topics = ofType('AWS::SNS::Topic').map(([id]) => id);
    expect(topics).toHaveLength(3);
    for (const topicId of topics) {
      const policy = ofType('AWS::SNS::TopicPolicy').find(([, p]) =>
        JSON.stringify(p.Properties?.Topics).includes(topicId),
      );
      const document = policy?.[1].Properties?.PolicyDocument as { Statement: Statement[] } | undefined;
      const statements = document?.Statement ?? [];
      const allow = statements.find(
        (s) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudwatch.amazonaws.com',
      );
      expect(allow, topicId).toBeDefined();
      expect(actionsOf(allow as Statement)).toEqual(['sns:Publish']);
      expectOwnAlarmsOnly(allow?.Condition);
    }
  });

  it("lets CloudWatch use the topics' key only for this account's alarms", () => {
    const [, key] = ofType('AWS::KMS::Key').find(([id]) => id.includes('TopicKey')) ?? [];
    const policy = key?.Properties?.KeyPolicy as { Statement: Statement[] } | undefined;
    const statements = policy?.Statement ?? [];
    const cloudwatch = statements.find((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(actionsOf(cloudwatch as Statement).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expectOwnAlarmsOnly(cloudwatch?.Condition);
  });

  it("conditions Secrets Manager's invoke permission on the rotation Lambda on this account and secret", () => {
    const permissions = ofType('AWS::Lambda::Permission').filter(
      ([, p]) => p.Properties?.Principal === 'secretsmanager.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    const [, permission] = permissions[0] ?? [];
    expect(permission?.Properties?.SourceAccount).toBe('123456789012');
    expect(JSON.stringify(permission?.Properties?.SourceArn)).toMatch(/ProvisionerKey/);
  });

  it('routes every alarm to the topic of its severity, which its runbook section names', () => {
    const severities = runbookSeverities();
    const topicOf = (label: string) =>
      ofType('AWS::SNS::Topic').find(([id]) => id.includes(`${label}AlarmTopic`))?.[0];
    for (const [id, alarm] of ofType('AWS::CloudWatch::Alarm')) {
      const description = JSON.stringify(alarm.Properties?.AlarmDescription);
      const severity = /^"\[(Critical|High|Medium)\]/.exec(description)?.[1];
      expect(severity, `${id} has no severity`).toBeDefined();
      const anchor = /RUNBOOK\.md#([a-z0-9-]+)/.exec(description)?.[1] ?? '';
      expect(severities.get(anchor), `${id}: runbook #${anchor} names another severity`).toBe(severity);
      expect(alarm.Properties?.AlarmActions, id).toEqual([{ Ref: topicOf(severity ?? '') }]);
      expect(alarm.Properties?.OKActions, id).toEqual([{ Ref: topicOf(severity ?? '') }]);
    }
  });

  it("subscribes alarms.emails to every severity and a severity's own endpoints to its topic", () => {
    const subscriptions = ofType('AWS::SNS::Subscription').map(([, s]) => s.Properties ?? {});
    const email = subscriptions.filter((s) => s.Endpoint === 'platform-oncall@example.com');
    expect(email).toHaveLength(3);
    const pager = subscriptions.filter((s) => s.Protocol === 'https');
    expect(pager).toHaveLength(1);
    expect(JSON.stringify(pager[0]?.TopicArn)).toMatch(/CriticalAlarmTopic/);
  });

  it.each([
    ['NodeGroupScalerHeartbeat', 900, 2, 'Critical'],
    ['FamiliesReconcileHeartbeat', 300, 2, 'High'],
    ['ProvisionerKeyHealthHeartbeat', 3600, 26, 'Medium'],
  ])('%s fires when no run completed in time, missing data breaching', (id, period, periods, severity) => {
    const [, alarm] = ofType('AWS::CloudWatch::Alarm').find(([logical]) => logical.includes(id)) ?? [];
    expect(alarm?.Properties).toMatchObject({
      Statistic: 'SampleCount',
      Period: period,
      EvaluationPeriods: periods,
      DatapointsToAlarm: periods,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(JSON.stringify(alarm?.Properties?.AlarmDescription)).toContain(`[${severity}]`);
  });

  it('alarms on webhook 403s that persist and on the age of the oldest queued work', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WebhookUnauthorized',
      Dimensions: [{ Name: 'service', Value: 'families-webhook' }],
      EvaluationPeriods: 4,
      DatapointsToAlarm: 4,
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1800,
    });
  });
});
