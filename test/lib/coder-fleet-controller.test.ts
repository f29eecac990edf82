import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { seed004ControllerConfig } from '../../config/seed-004.js';
import { ConfigError } from '../../lambdas/core/contracts/validation.js';
import { CoderFleetController } from '../../lib/coder-fleet-controller.js';
import { parseControllerConfig } from '../../lib/config.js';
import { type SynthResult, synthWithNag } from '../support/cdk.js';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/**
 * Actions that AWS only grants on `*` (no resource-level permissions), each with the reason it is
 * here. Anything else on `*` fails the test: a new wildcard must be argued for in this list.
 */
const WILDCARD_ALLOWED: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray tracing has no resource-level permissions',
  'xray:PutTelemetryRecords': 'X-Ray tracing has no resource-level permissions',
  'autoscaling:DescribeAutoScalingGroups': 'Auto Scaling Describe* actions support only *',
  'secretsmanager:GetRandomPassword': 'no resource type; added by addRotationSchedule',
};

const runbookAnchors = (): Set<string> => {
  const markdown = readFileSync(path.resolve('docs/RUNBOOK.md'), 'utf8');
  return new Set(
    [...markdown.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
      (m[1] ?? '')
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .trim()
        .replace(/ /g, '-'),
    ),
  );
};

describe('CoderFleetController with the seed 004 configuration', () => {
  let synth: SynthResult;
  let resources: Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  beforeAll(() => {
    synth = synthWithNag(
      (stack) => new CoderFleetController(stack, 'Controller', { config: seed004ControllerConfig }),
    );
    resources = synth.template.toJSON().Resources as Record<string, Resource>;
  });

  it('gives every Coder-facing function the shared Coder request budget, and only UpdateItem on it', () => {
    const functions = ofType('AWS::Lambda::Function').map(([, r]) => r.Properties ?? {});
    const withBudget = functions.filter(
      (p) => (p.Environment as { Variables?: Record<string, unknown> })?.Variables?.CODER_BUDGET_TABLE,
    );
    const coderFacing = functions.filter(
      (p) => (p.Environment as { Variables?: Record<string, unknown> })?.Variables?.CODER_URL,
    );
    expect(coderFacing.length).toBeGreaterThanOrEqual(5);
    expect(withBudget.length).toBe(
      coderFacing.filter((p) => !String(p.Handler ?? '').includes('webhook')).length,
    );
    for (const p of withBudget) {
      expect(
        (p.Environment as { Variables: Record<string, unknown> }).Variables.CODER_REQUESTS_PER_MINUTE,
      ).toBe('400');
    }
    synth.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'dynamodb:UpdateItem', Resource: Match.anyValue() }),
        ]),
      },
    });
  });

  it('has no cdk-nag AwsSolutions finding left unacknowledged', () => {
    expect(synth.nagErrors).toEqual([]);
    expect(synth.nagWarnings).toEqual([]);
  });

  it('sends every alarm, ALARM and OK, to an encrypted topic (one per severity: test/lib/alerting)', () => {
    const topics = ofType('AWS::SNS::Topic');
    expect(topics).toHaveLength(3);
    for (const [, topic] of topics) expect(topic.Properties?.KmsMasterKeyId).toBeDefined();
    synth.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'platform-oncall@example.com',
    });
    const topicIds = topics.map(([id]) => ({ Ref: id }));
    const alarms = ofType('AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(20);
    for (const [id, alarm] of alarms) {
      const actions = alarm.Properties?.AlarmActions as unknown[];
      expect(actions, id).toHaveLength(1);
      expect(topicIds, id).toContainEqual(actions[0]);
      expect(alarm.Properties?.OKActions, id).toEqual(actions);
    }
  });

  it('points every alarm at a runbook section that exists', () => {
    const anchors = runbookAnchors();
    for (const [id, alarm] of ofType('AWS::CloudWatch::Alarm')) {
      const description = JSON.stringify(alarm.Properties?.AlarmDescription);
      const anchor = /RUNBOOK\.md#([a-z0-9-]+)/.exec(description)?.[1];
      expect(anchor, `${id} has no runbook link`).toBeDefined();
      expect(anchors.has(anchor ?? ''), `${id} points to #${anchor}, missing in docs/RUNBOOK.md`).toBe(true);
    }
  });

  it('has an errors and a throttles alarm per function, and Coder API alarms per Coder-facing function', () => {
    const functions = ofType('AWS::Lambda::Function').filter(
      ([, f]) => f.Properties?.Runtime === 'nodejs22.x',
    );
    expect(functions).toHaveLength(7);
    const alarmsOn = (metricName: string) =>
      ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties?.MetricName === metricName);
    expect(alarmsOn('Throttles')).toHaveLength(7);
    // The reconcile, rotation and health functions have capability-specific error alarms instead.
    expect(alarmsOn('Errors').length).toBeGreaterThanOrEqual(7);
    for (const [name, threshold] of [
      ['CoderApiUnreachable', 5],
      ['CoderApiThrottled', 1],
    ] as const) {
      const alarms = alarmsOn(name);
      expect(
        alarms
          .map(([, a]) => (a.Properties?.Dimensions as Array<{ Value: string }> | undefined)?.[0]?.Value)
          .sort(),
      ).toEqual([
        'families-reconcile',
        'families-worker',
        'keys-health',
        'keys-rotation',
        'scaling-scheduler',
      ]);
      for (const [, a] of alarms) expect(a.Properties?.Threshold).toBe(threshold);
    }
  });

  it('alarms on capability failures with thresholds from the config', () => {
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProvisionerKeyAgeDays',
      Threshold: 90 - 14,
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ScalingFailures' });
    // Daemons on an old key: alarms on how long a non-current key has been in use since the rotation.
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldKeyInUseHours',
      Threshold: 72,
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'FamiliesHardLimited' });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'NodesBelowRunningFloor',
      Dimensions: Match.arrayWith([{ Name: 'NodeGroup', Value: 'coder-ws' }]),
    });
  });

  it('alarms on every dead-letter queue', () => {
    const queueIds = new Set<string>();
    const refOf = (value: unknown): string | undefined =>
      (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
    for (const [, q] of ofType('AWS::SQS::Queue')) {
      const target = refOf(
        (q.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown })?.deadLetterTargetArn,
      );
      if (target) queueIds.add(target);
    }
    for (const [, s] of ofType('AWS::Scheduler::Schedule')) {
      const target = refOf(
        (s.Properties?.Target as { DeadLetterConfig?: { Arn?: unknown } })?.DeadLetterConfig?.Arn,
      );
      expect(target, 'every schedule has a DLQ').toBeDefined();
      if (target) queueIds.add(target);
    }
    expect(queueIds.size).toBeGreaterThanOrEqual(4);
    const watched = JSON.stringify(
      ofType('AWS::CloudWatch::Alarm')
        .filter(([, a]) => a.Properties?.MetricName === 'ApproximateNumberOfMessagesVisible')
        .map(([, a]) => a.Properties?.Dimensions),
    );
    for (const id of queueIds) expect(watched, `DLQ ${id} has no alarm`).toContain(id);
  });

  it('gives every scheduled (asynchronously invoked) function an on-failure destination', () => {
    const scheduled = new Set(
      ofType('AWS::Scheduler::Schedule').map(
        ([, s]) =>
          (s.Properties?.Target as { Arn: { 'Fn::GetAtt': [string, string] } } | undefined)?.Arn[
            'Fn::GetAtt'
          ][0],
      ),
    );
    expect(scheduled.size).toBe(3);
    const withDestination = new Set(
      ofType('AWS::Lambda::EventInvokeConfig')
        .filter(
          ([, c]) => (c.Properties?.DestinationConfig as { OnFailure?: unknown } | undefined)?.OnFailure,
        )
        .map(([, c]) => (c.Properties?.FunctionName as { Ref: string } | undefined)?.Ref),
    );
    for (const fn of scheduled)
      expect(withDestination.has(fn), `${fn} has no on-failure destination`).toBe(true);
  });

  it('keeps every log group for a set time and keeps reconcilers from overlapping', () => {
    for (const [id, group] of ofType('AWS::Logs::LogGroup')) {
      expect(group.Properties?.RetentionInDays, id).toBeGreaterThan(0);
    }
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'scaling-scheduler' }) },
      ReservedConcurrentExecutions: 1,
    });
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'families-reconcile' }) },
      ReservedConcurrentExecutions: 1,
    });
  });

  it('has a dashboard with a row of alarms per severity and a row per capability', () => {
    const [, dashboard] = ofType('AWS::CloudWatch::Dashboard')[0] ?? [];
    const body = JSON.stringify(dashboard?.Properties?.DashboardBody);
    for (const text of [
      'Critical: respond within 15 min',
      'High: respond within 1 h',
      'Medium: respond within 4 h',
      'Node group scaling',
      'TargetDesiredSize',
      'RunningWorkspaces',
      'Savings',
      'NodesSavedVsPeak',
      'Workspace families',
      'FamilyChildrenMissing',
      'Provisioner keys',
      'ProvisionerKeyAgeDays',
      'DaemonsOnNonCurrentKey',
      'Coder API',
      'CoderApiThrottled',
      'CoderApiLatency',
      'Lambda health',
    ]) {
      expect(body).toContain(text);
    }
  });

  it('grants no action on * that AWS would let us scope', () => {
    const offenders: string[] = [];
    for (const [id, policy] of ofType('AWS::IAM::Policy')) {
      const statements =
        (policy.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
      for (const statement of statements) {
        if (statement.Effect !== 'Allow') continue;
        const resources = [statement.Resource].flat();
        if (!resources.includes('*')) continue;
        for (const action of [statement.Action].flat()) {
          if (!(action in WILDCARD_ALLOWED)) offenders.push(`${id}: ${action} on *`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('keeps secrets out of outputs and environment variables', () => {
    const template = JSON.stringify(synth.template.toJSON());
    expect(synth.template.toJSON().Outputs ?? {}).toEqual({});
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const variables =
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ?? {};
      for (const [name] of Object.entries(variables))
        expect(name).not.toMatch(/TOKEN$|PASSWORD|PATH_SECRET$/);
    }
    // Only the provisioner key secret starts with a value: its organization and tags, so the first
    // rotation knows where to create the key. No key or token is ever in the template.
    const initialValues = ofType('AWS::SecretsManager::Secret')
      .map(([, secret]) => secret.Properties?.SecretString)
      .filter((value) => value !== undefined);
    expect(initialValues).toHaveLength(1);
    expect(Object.keys(JSON.parse(String(initialValues[0]))).sort()).toEqual(['organization', 'tags']);
    expect(template).not.toMatch(/"(key|token|pathSecret)":/);
  });
});

describe("audit events from coderd's CloudWatch Logs (coder.auditLogGroupName)", () => {
  it('subscribes the families logs function to audit_log lines and watches it like every function', () => {
    const synth = synthWithNag(
      (stack) =>
        new CoderFleetController(stack, 'Controller', {
          config: {
            ...seed004ControllerConfig,
            coder: {
              ...seed004ControllerConfig.coder,
              auditLogGroupName: '/aws/containerinsights/coder/application',
            },
            alarms: { ...seed004ControllerConfig.alarms, auditLogSilenceHours: 12 },
          },
        }),
    );
    synth.template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: '/aws/containerinsights/coder/application',
      FilterPattern: Match.stringLikeRegexp('audit_log'),
    });
    const ids = Object.keys(synth.template.toJSON().Resources as Record<string, unknown>);
    expect(ids.some((id) => id.includes('FamiliesLogsErrors'))).toBe(true);
    expect(ids.some((id) => id.includes('FamiliesLogsThrottles'))).toBe(true);
    // Its own alarms reach their severity's topic: silence is a slow burn, a failed batch is not.
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'AuditLogEventsReceived',
      EvaluationPeriods: 12,
      AlarmDescription: Match.stringLikeRegexp('^\\[Medium\\] No coderd audit entry'),
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('MediumAlarmTopic') })],
    });
    synth.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^\\[High\\] A batch of coderd audit log lines failed'),
    });
    expect(synth.nagErrors).toEqual([]);
  });

  it('refuses a silence alarm with no subscription to watch', () => {
    expect(() =>
      parseControllerConfig({
        ...seed004ControllerConfig,
        alarms: { ...seed004ControllerConfig.alarms, auditLogSilenceHours: 6 },
      }),
    ).toThrow(
      /alarms\.auditLogSilenceHours: watches the audit-log subscription: set coder\.auditLogGroupName too/,
    );
  });

  it('is refused when it is not a log group name', () => {
    expect(() =>
      parseControllerConfig({
        ...seed004ControllerConfig,
        coder: { ...seed004ControllerConfig.coder, auditLogGroupName: 'not a log group!' },
      }),
    ).toThrow(/coder\.auditLogGroupName: must be a CloudWatch Logs log group name/);
  });
});

describe('alarm thresholds from the configuration', () => {
  it('reach the alarms they name', () => {
    const { template } = synthWithNag(
      (stack) =>
        new CoderFleetController(stack, 'Controller', {
          config: {
            ...seed004ControllerConfig,
            alarms: {
              emails: [],
              lambdaErrors: 3,
              coderUnreachable: 9,
              scalingFailures: 2,
              belowFloorChecks: 4,
              familiesBadRuns: 6,
              familiesErrorPeriods: 5,
            },
          },
        }),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CoderApiUnreachable',
      Threshold: 9,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Threshold: 3,
      AlarmDescription: Match.stringLikeRegexp('^\\[High\\] NodeGroupScaler'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ScalingFailures', Threshold: 2 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'NodesBelowRunningFloor',
      EvaluationPeriods: 4,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyChildrenMissing',
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('reconcile failed 5 periods in a row'),
      EvaluationPeriods: 5,
    });
  });
});

describe('configuration validation at synth', () => {
  const broken = {
    coder: { url: 'http://coder.example.com' },
    alarms: { emails: ['not-an-email'] },
    scaling: {
      ...seed004ControllerConfig.scaling,
      nodeGroups: [
        {
          name: 'coder-ws',
          kind: 'eks-managed',
          nodegroupName: 'coder-ws',
          role: { kind: 'workspaces', workspacesPerNode: 0 },
          profiles: { peak: { minSize: 20, maxSize: 10 }, 'off-hours': { minSize: 0, maxSize: 5 } },
        },
      ],
    },
    families: { templates: [] },
    provisionerKeys: { organization: 'default', maxKeyAgeDays: 10, alertLeadDays: 14 },
  };

  it('names every bad field in one error', () => {
    let error: unknown;
    try {
      parseControllerConfig(broken);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const field of [
      'coder.url',
      'alarms.emails[0]',
      'scaling.nodeGroups[0].role.workspacesPerNode',
      'scaling.nodeGroups[0].profiles.peak',
      'families.templates',
      'provisionerKeys.alertLeadDays',
    ]) {
      expect(message).toContain(field);
    }
  });

  it.each([
    ['https://user:secret@coder.example.com', /coder\.url: must not carry user:password@/],
    ['https://coder.example.com/?org=1', /coder\.url: must not have a query string/],
    ['https://coder.example.com/#x', /coder\.url: must not have a query string or fragment/],
    ['coder.example.com', /coder\.url: is not a URL/],
    ['http://', /coder\.url: is not a URL/],
  ])('names coder.url for %s instead of failing at runtime or with a raw TypeError', (url, message) => {
    const config = { ...seed004ControllerConfig, coder: { url } };
    expect(() => parseControllerConfig(config)).toThrow(ConfigError);
    expect(() => parseControllerConfig(config)).toThrow(message);
  });

  it('refuses a holiday that is not a day of the calendar', () => {
    const scaling = {
      ...seed004ControllerConfig.scaling,
      schedule: { ...seed004ControllerConfig.scaling?.schedule, holidays: ['2026-02-30'] },
    };
    expect(() => parseControllerConfig({ ...seed004ControllerConfig, scaling })).toThrow(
      /scaling\.schedule\.holidays\[0\]: is not a day of the calendar/,
    );
  });

  it('refuses a configuration that enables nothing', () => {
    expect(() => parseControllerConfig({ coder: { url: 'https://coder.example.com' } })).toThrow(
      /enables nothing/,
    );
  });

  it('fails `cdk synth` with the bad fields named', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cfc-bad-config-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(broken));
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
      encoding: 'utf8',
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: file }), CDK_OUTDIR: dir },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('coder.url');
    expect(result.stderr).toContain('families.templates');
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe("the construct in another team's CDK app", () => {
  it('synthesizes from a second, minimal app', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cfc-minimal-app-'));
    execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/minimal-app.ts', outdir], {
      stdio: 'pipe',
    });
    const template = JSON.parse(
      readFileSync(path.join(outdir, 'PlatformTeamStack.template.json'), 'utf8'),
    ) as {
      Resources: Record<string, Resource>;
    };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain('AWS::SecretsManager::RotationSchedule');
    expect(types).toContain('AWS::SNS::Topic');
    expect(types).not.toContain('AWS::EKS::Nodegroup');
    expect(types.filter((t) => t === 'AWS::Lambda::Function').length).toBeGreaterThanOrEqual(2);
  });
});
