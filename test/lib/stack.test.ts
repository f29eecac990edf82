import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { seed004ControllerConfig } from '../../config/seed-004.js';
import type { ControllerConfigInput } from '../../lib/config.js';
import { CoderFleetControllerStack } from '../../lib/stack.js';

type Outputs = Record<string, { Value: unknown; Description?: string }>;
type Resources = Record<string, { Type: string }>;

const synth = (config: ControllerConfigInput) => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new CoderFleetControllerStack(app, 'Cfc', { config });
  const json = Template.fromStack(stack).toJSON();
  const logicalIdsOf = (type: string) =>
    Object.entries(json.Resources as Resources)
      .filter(([, r]) => r.Type === type)
      .map(([id]) => id);
  return { stack, outputs: (json.Outputs ?? {}) as Outputs, logicalIdsOf };
};

describe('the project stack, with the reference deployment', () => {
  let built: ReturnType<typeof synth>;
  beforeAll(() => {
    built = synth(seed004ControllerConfig);
  });

  it('outputs the names operators invoke, the ARNs they fill and the webhook URL, never a secret value', () => {
    const { outputs } = built;
    expect(Object.keys(outputs).sort()).toEqual([
      'CoderTokenSecretArn',
      'CriticalAlarmTopicArn',
      'DashboardName',
      'FamiliesReconcileFunctionName',
      'HighAlarmTopicArn',
      'KeyHealthFunctionName',
      'MediumAlarmTopicArn',
      'ProvisionerKeySecretArn',
      'ScalerFunctionName',
      'SchedulePreviewFunctionName',
      'WebhookFunctionName',
      'WebhookSecretArn',
      'WebhookUrl',
    ]);
    // Secret values would appear as dynamic references; none may.
    expect(JSON.stringify(Object.values(outputs).map((o) => o.Value))).not.toContain(
      'resolve:secretsmanager',
    );
  });

  it("makes every deployer output from the construct's public properties", () => {
    const { stack, outputs, logicalIdsOf } = built;
    const { controller } = stack;
    const value = (name: string) => outputs[name]?.Value;

    // The webhook: the Function URL's own attribute (no path secret in it), and the secret beside it.
    const [urlId] = logicalIdsOf('AWS::Lambda::Url');
    expect(stack.resolve(controller.webhookUrl)).toEqual({ 'Fn::GetAtt': [urlId, 'FunctionUrl'] });
    expect(value('WebhookUrl')).toEqual(stack.resolve(controller.webhookUrl));
    expect(outputs.WebhookUrl?.Description).toMatch(/followed by the pathSecret in WebhookSecretArn/);
    expect(value('WebhookSecretArn')).toEqual(stack.resolve(controller.webhookSecret?.secretArn));

    // The secrets to fill: the token the stack created, then the provisioner key rotation fills.
    expect(controller.secretsToFill.map((s) => s.name)).toEqual(['CoderToken', 'ProvisionerKey']);
    const secretIds = logicalIdsOf('AWS::SecretsManager::Secret');
    for (const { name, secret, action } of controller.secretsToFill) {
      expect(secretIds).toContain((stack.resolve(secret.secretArn) as { Ref: string }).Ref);
      expect(outputs[`${name}SecretArn`]).toEqual({
        Value: stack.resolve(secret.secretArn),
        Description: action,
      });
    }
    expect(controller.secretsToFill[0]?.secret).toBe(controller.coderTokenSecret);

    // The dashboard and one topic per severity.
    expect(stack.resolve(controller.dashboardName)).toEqual({
      Ref: logicalIdsOf('AWS::CloudWatch::Dashboard')[0],
    });
    expect(value('DashboardName')).toEqual(stack.resolve(controller.dashboardName));
    const topicIds = logicalIdsOf('AWS::SNS::Topic');
    expect(Object.keys(controller.alarmTopics)).toEqual(['critical', 'high', 'medium']);
    const topicRefs = Object.values(controller.alarmTopics).map(
      (t) => stack.resolve(t.topicArn) as { Ref: string },
    );
    expect(topicRefs.map((r) => r.Ref).sort()).toEqual([...topicIds].sort());
    expect([
      value('CriticalAlarmTopicArn'),
      value('HighAlarmTopicArn'),
      value('MediumAlarmTopicArn'),
    ]).toEqual(topicRefs);
  });
});

describe('the project stack, with an existing token secret and no families', () => {
  const tokenSecretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:coder-token-AbCdEf';

  it('has no webhook outputs, and outputs the given token secret without asking to fill it', () => {
    // Prepare / Act
    const { stack, outputs } = synth({
      coder: { url: 'https://coder.example.com', tokenSecretArn },
      provisionerKeys: { organization: 'default' },
    });

    // Assess
    expect(stack.controller.webhookUrl).toBeUndefined();
    expect(stack.controller.webhookSecret).toBeUndefined();
    expect(stack.controller.secretsToFill.map((s) => s.name)).toEqual(['ProvisionerKey']);
    expect(Object.keys(outputs).filter((k) => k.startsWith('Webhook'))).toEqual([]);
    expect(outputs.CoderTokenSecretArn?.Value).toBe(tokenSecretArn);
    expect(outputs.CoderTokenSecretArn?.Description).not.toMatch(/put-secret-value/);
  });
});
