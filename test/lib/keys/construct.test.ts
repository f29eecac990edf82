import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/contracts/validation.js';
import { ProvisionerKeyRotation, type ProvisionerKeyRotationProps } from '../../../lib/keys/construct.js';

const TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:coder-token-AbCdEf';

/**
 * Synth with cdk-nag's AwsSolutions pack run over the tree (cdk-nag 3 is a validation plugin, so
 * `validateScope` gives its findings; acknowledgements made with `Validations.of` are honoured).
 */
const synth = (config: ProvisionerKeyRotationProps['config']) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'KeyStack', { env: { account: '123456789012', region: 'us-east-1' } });
  const tokenSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'CoderToken', TOKEN_SECRET_ARN);
  const construct = new ProvisionerKeyRotation(stack, 'ProvisionerKeys', {
    config,
    coder: { url: 'https://coder.example.com', tokenSecret },
  });
  const template = Template.fromStack(stack);
  const report = new AwsSolutionsChecks(app, { verbose: true }).validateScope(app);
  const findings = report.violations.flatMap((v) =>
    v.violatingResources.map((r) => ({ rule: v.ruleName, severity: v.severity, where: r.resourceLogicalId })),
  );
  return { stack, construct, template, findings };
};

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

const statementsOfRole = (template: Template, roleLogicalIdPrefix: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(roleLogicalIdPrefix)),
    )
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('ProvisionerKeyRotation construct', () => {
  let built: ReturnType<typeof synth>;
  beforeAll(() => {
    built = synth({ organization: 'coder', keyTags: { scope: 'organization' }, rotationIntervalDays: 21 });
  });

  it('keeps the key in a secret encrypted with its own rotating KMS key, seeded with organization and tags only', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: 'Encrypts the Coder provisioner key secret',
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(construct.key.node.defaultChild as never), 'Arn'] },
      SecretString: JSON.stringify({ organization: 'coder', tags: { scope: 'organization' } }),
    });
  });

  it('rotates with the rotation Lambda at the configured interval', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: stack.getLogicalId(construct.secret.node.defaultChild as never) },
      RotationLambdaARN: {
        'Fn::GetAtt': [stack.getLogicalId(construct.rotationFunction.node.defaultChild as never), 'Arn'],
      },
      RotationRules: { ScheduleExpression: 'rate(21 days)' },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Environment: {
        Variables: Match.objectLike({
          CODER_URL: 'https://coder.example.com',
          CODER_TOKEN_SECRET_ARN: TOKEN_SECRET_ARN,
          PROVISIONER_KEY_CONFIG: Match.anyValue(),
        }),
      },
    });
    // No prefix: each deployment derives its own from its secret's ARN (no longer the shared cfc-rot).
    const configs = Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment?.Variables?.PROVISIONER_KEY_CONFIG as string | undefined)
      .filter((c) => c !== undefined);
    expect(configs).toHaveLength(2);
    for (const config of configs) expect(JSON.parse(config)).not.toHaveProperty('managedPrefix');
  });

  it('gives the rotation Lambda rights on this secret only, plus reading the Coder token', () => {
    const { template, stack, construct } = built;
    const secretRef = { Ref: stack.getLogicalId(construct.secret.node.defaultChild as never) };
    const roleId = stack.getLogicalId(construct.rotationFunction.role?.node.defaultChild as never);
    const statements = statementsOfRole(template, roleId);
    const secretStatements = statements.filter((s) =>
      actionsOf(s).some((a) => a.startsWith('secretsmanager:')),
    );
    const onThisSecret = secretStatements.filter(
      (s) => JSON.stringify(s.Resource) === JSON.stringify(secretRef),
    );
    expect(onThisSecret.flatMap(actionsOf).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    const onToken = secretStatements.filter((s) => s.Resource === TOKEN_SECRET_ARN);
    expect(onToken.flatMap(actionsOf).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
    // addRotationSchedule's GetRandomPassword reads no secret; nothing else may be unscoped.
    const rest = secretStatements.filter((s) => !onThisSecret.includes(s) && !onToken.includes(s));
    expect(rest.flatMap(actionsOf)).toEqual(['secretsmanager:GetRandomPassword']);
    const wildcard = statements.filter((s) => s.Resource === '*').flatMap(actionsOf);
    expect(wildcard.sort()).toEqual([
      'secretsmanager:GetRandomPassword',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  it('lets the rotation Lambda use the KMS key only through Secrets Manager', () => {
    const { template, stack, construct } = built;
    const key = template.findResources('AWS::KMS::Key', {
      Properties: { Description: 'Encrypts the Coder provisioner key secret' },
    });
    const statements = Object.values(key)[0]?.Properties.KeyPolicy.Statement as (Statement & {
      Principal: unknown;
    })[];
    const roleArn = {
      'Fn::GetAtt': [stack.getLogicalId(construct.rotationFunction.role?.node.defaultChild as never), 'Arn'],
    };
    const forRotation = statements.filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ AWS: roleArn }),
    );
    expect(forRotation).toHaveLength(1);
    expect(actionsOf(forRotation[0] as Statement)).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']),
    );
    expect(JSON.stringify(forRotation[0]?.Condition)).toContain('secretsmanager.us-east-1.amazonaws.com');
  });

  it('runs the health check daily through EventBridge Scheduler with a dead-letter queue', () => {
    const { template, stack, construct } = built;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 day)',
      Target: {
        Arn: {
          'Fn::GetAtt': [stack.getLogicalId(construct.healthFunction.node.defaultChild as never), 'Arn'],
        },
        Input: JSON.stringify({ action: 'check', scheduledTime: '<aws.scheduler.scheduled-time>' }),
        DeadLetterConfig: {
          Arn: {
            'Fn::GetAtt': [stack.getLogicalId(construct.deadLetterQueue.node.defaultChild as never), 'Arn'],
          },
        },
        RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 3 }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          PROVISIONER_KEY_SECRET_ARN: {
            Ref: stack.getLogicalId(construct.secret.node.defaultChild as never),
          },
        }),
      },
    });
  });

  it('raises alarms for key age, daemons on an old key, rotation failures, a missing key, and a failing check', () => {
    const { template, construct } = built;
    expect(construct.alarms).toHaveLength(6);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProvisionerKeyAgeDays',
      Namespace: 'CoderFleetController',
      Dimensions: [{ Name: 'service', Value: 'keys-health' }],
      Threshold: 90 - 14,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 86_400,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#provisioner-key-age'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldKeyInUseHours',
      Threshold: 72,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#provisioner-daemons-on-old-key'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('RotationFunction') } }],
      Threshold: 1,
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#keys-rotation-failed'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CurrentProvisionerKeyMissing',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#provisioner-key-missing'),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmDescription: Match.stringLikeRegexp('docs/RUNBOOK.md#dead-letter-queue-not-empty'),
    });
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmDescription).toMatch(/Runbook: docs\/RUNBOOK\.md#[a-z-]+$/);
    }
  });

  it('has no unacknowledged cdk-nag errors or warnings', () => {
    expect(built.findings).toEqual([]);
  });

  it('takes the alarm thresholds from the config', () => {
    const { template } = synth({
      organization: 'coder',
      maxKeyAgeDays: 60,
      alertLeadDays: 10,
      oldKeyInUseAlarmHours: 12,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProvisionerKeyAgeDays',
      Threshold: 50,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldKeyInUseHours',
      Threshold: 12,
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
    });
  });

  it('refuses a bad config at synth, naming each field', () => {
    expect(() =>
      synth({ organization: '', rotationIntervalDays: 80, managedPrefix: 'Bad_Prefix' } as never),
    ).toThrowError(ConfigError);
    try {
      synth({ organization: 'coder', rotationIntervalDays: 80, managedPrefix: 'psk' });
    } catch (error) {
      expect((error as Error).message).toContain('rotationIntervalDays');
      expect((error as Error).message).toContain('managedPrefix');
    }
  });
});
