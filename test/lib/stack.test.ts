import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { seed004ControllerConfig } from '../../config/seed-004.js';
import { CoderFleetControllerStack } from '../../lib/stack.js';

describe('the project stack', () => {
  it('outputs the names operators invoke and the ARNs they fill, never a secret value', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new CoderFleetControllerStack(app, 'Cfc', { config: seed004ControllerConfig });
    const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, { Value: unknown }>;
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
    ]);
    const values = JSON.stringify(Object.values(outputs).map((o) => o.Value));
    // Secret values would appear as dynamic references or FunctionUrl attributes; neither may.
    expect(values).not.toContain('resolve:secretsmanager');
    expect(values).not.toContain('FunctionUrl');
  });
});
