import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/contracts/validation.js';
import { WorkspaceFamilies, type WorkspaceFamiliesProps } from '../../../lib/families/construct.js';
import { synthWithNag } from '../../support/cdk.js';

const TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:coder-token-AbCdEf';

const synth = (overrides: Partial<WorkspaceFamiliesProps> = {}) => {
  let construct: WorkspaceFamilies | undefined;
  const result = synthWithNag((stack) => {
    const tokenSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'CoderToken', TOKEN_SECRET_ARN);
    construct = new WorkspaceFamilies(stack, 'Families', {
      config: { templates: ['dev'] },
      coder: { url: 'https://coder.example.com', tokenSecret },
      ...overrides,
    });
  }, 'FamiliesStack');
  if (!construct) throw new Error('construct not built');
  return { ...result, construct };
};

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as never);

const statementsOfRole = (template: Template, roleLogicalId: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleLogicalId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);

/** Every resource a role's statements name, as logical ids (or literal ARNs), action by action. */
const resourcesByAction = (statements: Statement[]): Map<string, Set<string>> => {
  const refs = (resource: unknown): string[] => {
    if (Array.isArray(resource)) return resource.flatMap(refs);
    const text = JSON.stringify(resource);
    const ids = [...text.matchAll(/"(?:Ref|Fn::GetAtt)":(?:\["|")([A-Za-z0-9]+)/g)].map((m) => m[1] ?? '');
    return ids.length > 0 ? ids : [typeof resource === 'string' ? resource : text];
  };
  const map = new Map<string, Set<string>>();
  for (const s of statements) {
    for (const action of actionsOf(s)) {
      const set = map.get(action) ?? new Set<string>();
      for (const r of refs(s.Resource)) set.add(r);
      map.set(action, set);
    }
  }
  return map;
};

describe('WorkspaceFamilies construct', () => {
  let built: ReturnType<typeof synth>;
  beforeAll(() => {
    built = synth();
  });

  it('keeps the ledger and the locks in encrypted, on-demand tables with point-in-time recovery and TTL', () => {
    const { template, stack, construct } = built;
    for (const table of [construct.ledgerTable, construct.lockTable]) {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          SSESpecification: { SSEEnabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        },
      });
      expect(template.toJSON().Resources[logicalId(stack, table)]).toBeDefined();
    }
    expect(template.toJSON().Resources[logicalId(stack, construct.ledgerTable)].DeletionPolicy).toBe(
      'Retain',
    );
  });

  it('runs the full reconcile every 5 minutes through EventBridge Scheduler, one at a time, with retries and a DLQ', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      Target: {
        Arn: { 'Fn::GetAtt': [logicalId(stack, construct.reconcileFunction), 'Arn'] },
        Input: JSON.stringify({ trigger: 'schedule', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        DeadLetterConfig: {
          Arn: { 'Fn::GetAtt': [logicalId(stack, construct.deadLetterQueues[1] as never), 'Arn'] },
        },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 1,
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          FAMILIES_CONFIG: Match.stringLikeRegexp('"templates":\\["dev"\\]'),
          LEDGER_TABLE_NAME: { Ref: logicalId(stack, construct.ledgerTable) },
          LOCK_TABLE_NAME: { Ref: logicalId(stack, construct.lockTable) },
          CODER_URL: 'https://coder.example.com',
          CODER_TOKEN_SECRET_ARN: TOKEN_SECRET_ARN,
          POWERTOOLS_SERVICE_NAME: 'families-reconcile',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, construct.reconcileFunction) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
  });

  it('takes the schedule rate from the props', () => {
    synth({ scheduleRate: Duration.minutes(2) }).template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(2 minutes)',
    });
  });

  it('puts webhook work on an encrypted, TLS-only FIFO queue with a FIFO DLQ and a visibility of 6x the worker timeout', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 720,
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalId(stack, construct.deadLetterQueues[0] as never), 'Arn'],
        },
        maxReceiveCount: 8,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(stack, construct.queue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('drives the worker from the queue with partial batch responses', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, construct.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(stack, construct.workerFunction) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'families-worker',
          FAMILY_QUEUE_URL: { Ref: logicalId(stack, construct.queue) },
          LEDGER_TABLE_NAME: { Ref: logicalId(stack, construct.ledgerTable) },
        }),
      },
    });
  });

  it('exposes the webhook as a Function URL without IAM auth, its secret generated and KMS-encrypted', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'NONE',
      InvokeMode: 'BUFFERED',
      TargetFunctionArn: { 'Fn::GetAtt': [logicalId(stack, construct.webhookFunction), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [logicalId(stack, construct.webhookSecretKey), 'Arn'] },
      GenerateSecretString: {
        SecretStringTemplate: '{}',
        GenerateStringKey: 'pathSecret',
        PasswordLength: 64,
        ExcludePunctuation: true,
        IncludeSpace: false,
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: 'Encrypts the workspace families webhook path secret',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 20,
      Environment: {
        Variables: Match.objectLike({
          WEBHOOK_SECRET_ARN: { Ref: logicalId(stack, construct.webhookSecret) },
          FAMILY_QUEUE_URL: { Ref: logicalId(stack, construct.queue) },
          WEBHOOK_MAX_BODY_BYTES: '262144',
        }),
      },
    });
  });

  it('never puts the secret value in an output, an environment variable or anywhere else in the template', () => {
    const text = JSON.stringify(built.template.toJSON());
    expect(text).not.toContain('{{resolve:secretsmanager');
    expect(text).not.toContain('"SecretString"');
    expect(Object.keys(built.template.toJSON().Outputs ?? {})).toEqual([]);
  });

  it('gives the webhook only sending to its queue and reading its secret', () => {
    const { template, stack, construct } = built;
    const statements = statementsOfRole(template, logicalId(stack, construct.webhookFunction.role as never));
    const byAction = resourcesByAction(statements);
    const queueId = logicalId(stack, construct.queue);
    const secretId = logicalId(stack, construct.webhookSecret);
    expect(Object.fromEntries([...byAction].map(([a, r]) => [a, [...r].sort()]))).toEqual({
      'sqs:SendMessage': [queueId],
      'sqs:GetQueueAttributes': [queueId],
      'sqs:GetQueueUrl': [queueId],
      'secretsmanager:GetSecretValue': [secretId],
      'secretsmanager:DescribeSecret': [secretId],
      'xray:PutTraceSegments': ['*'],
      'xray:PutTelemetryRecords': ['*'],
    });
  });

  it('scopes the reconcile and worker roles to the two tables, the Coder token and (worker) the queue', () => {
    const { template, stack, construct } = built;
    const allowed = new Set([
      logicalId(stack, construct.ledgerTable),
      logicalId(stack, construct.lockTable),
      TOKEN_SECRET_ARN,
      '*',
    ]);
    for (const fn of [construct.reconcileFunction, construct.workerFunction]) {
      const byAction = resourcesByAction(statementsOfRole(template, logicalId(stack, fn.role as never)));
      const worker = fn === construct.workerFunction;
      for (const [action, resources] of byAction) {
        for (const resource of resources) {
          // The reconcile's async on-failure destination is the schedule's DLQ: it may send there, nothing more.
          const scheduleDlq = construct.deadLetterQueues[1];
          // The reconcile sends its continuations to its own queue and consumes them.
          const continuation =
            !worker &&
            action.startsWith('sqs:') &&
            resource === logicalId(stack, construct.continuationQueue);
          const ok =
            continuation ||
            allowed.has(resource) ||
            (worker && action.startsWith('sqs:') && resource === logicalId(stack, construct.queue)) ||
            (!worker &&
              scheduleDlq !== undefined &&
              resource === logicalId(stack, scheduleDlq) &&
              ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'].includes(action));
          expect(ok, `${action} on ${resource}`).toBe(true);
          if (resource === '*') expect(action).toMatch(/^xray:/);
        }
      }
      expect(byAction.get('dynamodb:PutItem')).toEqual(
        new Set([logicalId(stack, construct.ledgerTable), logicalId(stack, construct.lockTable)]),
      );
      expect(byAction.get('secretsmanager:GetSecretValue')).toEqual(new Set([TOKEN_SECRET_ARN]));
      expect([...byAction.keys()].some((a) => a.startsWith('dynamodb:Delete') && a.includes('Table'))).toBe(
        false,
      );
    }
    const workerSqs = [
      ...resourcesByAction(
        statementsOfRole(template, logicalId(stack, construct.workerFunction.role as never)),
      ).keys(),
    ]
      .filter((a) => a.startsWith('sqs:'))
      .sort();
    expect(workerSqs).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
  });

  it('gives the reconcile its continuation queue: encrypted, TLS only, delivered one message at a time, failures to the schedule DLQ', () => {
    const { template, stack, construct } = built;
    const queueId = logicalId(stack, construct.continuationQueue);
    const queue = template.findResources('AWS::SQS::Queue')[queueId];
    expect(queue?.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 330,
      MessageRetentionPeriod: 3600,
      RedrivePolicy: { maxReceiveCount: 3 },
    });
    expect(JSON.stringify(queue?.Properties.RedrivePolicy)).toContain(
      logicalId(stack, construct.deadLetterQueues[1] as never),
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: logicalId(stack, construct.reconcileFunction) },
    });
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(stack, construct.reconcileFunction)];
    expect(fn?.Properties.Environment.Variables.CONTINUATION_QUEUE_URL).toEqual({ Ref: queueId });
    // A cold run at 30,000 workspaces peaks near 400 MiB (benchmark scenario 8).
    expect(fn?.Properties.MemorySize).toBe(1024);
    const byAction = resourcesByAction(
      statementsOfRole(template, logicalId(stack, construct.reconcileFunction.role as never)),
    );
    expect(byAction.get('sqs:SendMessage')).toEqual(
      new Set([queueId, logicalId(stack, construct.deadLetterQueues[1] as never)]),
    );
    expect(byAction.get('sqs:ReceiveMessage')).toEqual(new Set([queueId]));
  });

  it('lets only EventBridge Scheduler of this account invoke the reconcile, through its own role', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ],
      },
    });
    const byAction = resourcesByAction(statementsOfRole(template, logicalId(stack, construct.scheduleRole)));
    expect(byAction.get('lambda:InvokeFunction')).toEqual(
      new Set([logicalId(stack, construct.reconcileFunction)]),
    );
    expect(byAction.get('sqs:SendMessage')).toEqual(
      new Set([logicalId(stack, construct.deadLetterQueues[1] as never)]),
    );
  });

  it('raises alarms for failing and drifting families, reconcile errors, webhook 5xx and non-empty DLQs, each with a runbook link', () => {
    const { template, construct } = built;
    expect(construct.alarms).toHaveLength(12);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamiliesHardLimited',
      Namespace: 'CoderFleetController',
      Dimensions: [{ Name: 'service', Value: 'families-reconcile' }],
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-failing'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyChildrenMissing',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-drifting'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'answered + crashed' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'WebhookServerErrors',
              Dimensions: [{ Name: 'service', Value: 'families-webhook' }],
            }),
          }),
        }),
      ]),
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-webhook-errors'),
    });
    expect(
      Object.values(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { MetricName: 'ApproximateNumberOfMessagesVisible' },
        }),
      ),
    ).toHaveLength(2);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: docs\/RUNBOOK\.md#[a-z-]+$/);
    }
  });

  it('alarms on unknown templates, lost locks and persistent conflicts (issue 19), each with a runbook link', () => {
    const { template } = built;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyTemplatesUnknown',
      Dimensions: [{ Name: 'service', Value: 'families-reconcile' }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-templates-unknown$'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(reconcile, 0) + FILL(worker, 0)' }),
        Match.objectLike({
          Id: 'worker',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'FamiliesLockLost',
              Dimensions: [{ Name: 'service', Value: 'families-worker' }],
            }),
          }),
        }),
      ]),
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-lock-lost$'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyConflicts',
      Dimensions: [{ Name: 'service', Value: 'families-reconcile' }],
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-conflicts$'),
    });
  });

  it('watches each scheduled run once: the per-run alarms take the schedule rate as their period', () => {
    const { template } = synth({ scheduleRate: Duration.minutes(10), alarms: { consecutiveBadRuns: 4 } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyConflicts',
      Period: 600,
      EvaluationPeriods: 4,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyTemplatesUnknown',
      Period: 600,
    });
  });

  it('refuses alarm settings CloudWatch would refuse at deploy, naming the prop', () => {
    let error: unknown;
    try {
      synth({
        config: { templates: ['dev'], gracePeriodMs: 30 * 60_000 },
        scheduleRate: Duration.minutes(30),
        alarms: { consecutiveBadRuns: 100, consecutiveErrorPeriods: 0 },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^alarms\.consecutiveBadRuns: 100 periods of 1800 s evaluate 180000 s/),
      'alarms.consecutiveErrorPeriods: must be an integer of at least 1, got 0',
    ]);
  });

  it("alarms when runs stop at the provisioner-job cap for 2 hours, or no daemon can take the templates' jobs for 30 minutes while children are missing", () => {
    const { template } = built;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyProvisionerAtCap',
      Statistic: 'Minimum',
      Dimensions: [{ Name: 'service', Value: 'families-reconcile' }],
      EvaluationPeriods: 24,
      DatapointsToAlarm: 24,
      TreatMissingData: 'notBreaching',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-provisioner-cap'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(daemons <= 0 AND missing > 0, 1, 0)' }),
        Match.objectLike({
          Id: 'daemons',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'FamilyProvisionerDaemonsOnline' }),
          }),
        }),
        Match.objectLike({
          Id: 'missing',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'FamilyChildrenMissing' }) }),
        }),
      ]),
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#families-no-provisioner'),
    });
  });

  it('takes how long to wait before the provisioner alarms from its props', () => {
    const { template } = synth({
      alarms: { atProvisionerCapFor: Duration.minutes(42), noProvisionerFor: Duration.hours(48) },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'FamilyProvisionerAtCap',
      EvaluationPeriods: 9,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('families-no-provisioner'),
      // At most a day of 5-minute periods.
      EvaluationPeriods: 288,
    });
  });

  it('exposes its functions, queue, dead-letter queues and URL', () => {
    const { construct } = built;
    expect(construct.functions).toEqual([
      construct.reconcileFunction,
      construct.webhookFunction,
      construct.workerFunction,
    ]);
    expect(construct.deadLetterQueues).toHaveLength(2);
    expect(construct.functionUrl.url).toBeDefined();
  });

  it('has no unacknowledged cdk-nag errors or warnings', () => {
    expect(built.nagErrors).toEqual([]);
    expect(built.nagWarnings).toEqual([]);
  });

  it('refuses a bad config at synth, naming each field', () => {
    const attempt = () =>
      synth({ config: { templates: [], removalPolicy: 'explode', maxChildren: 0 } as never });

    expect(attempt).toThrowError(ConfigError);
    expect(attempt).toThrowError(/templates/);
    expect(attempt).toThrowError(/removalPolicy/);
    expect(attempt).toThrowError(/maxChildren/);
  });

  it('refuses a lock lease too short to be renewed in time', () => {
    expect(() => synth({ config: { templates: ['dev'], lockLeaseMs: 20_000 } })).toThrowError(/lockLeaseMs/);
  });
});
