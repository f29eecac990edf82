import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SEVERITIES, severityLabel } from './alerting/severity.js';
import { CoderFleetController } from './coder-fleet-controller.js';
import type { ControllerConfigInput } from './config.js';

export interface CoderFleetControllerStackProps extends StackProps {
  readonly config: ControllerConfigInput;
}

/**
 * The project's own stack: the controller construct, tagged, with outputs an operator needs for
 * ad-hoc invocations and the first-deploy steps, made from the construct's public properties
 * (README: "Use it in your own CDK app" shows the same pattern). Names, ARNs and the webhook's
 * Function URL only: never a secret value (the webhook's path secret stays in its secret).
 */
export class CoderFleetControllerStack extends Stack {
  readonly controller: CoderFleetController;

  constructor(scope: Construct, id: string, props: CoderFleetControllerStackProps) {
    super(scope, id, props);
    const controller = new CoderFleetController(this, 'Controller', { config: props.config });
    this.controller = controller;
    // CloudFormation takes no Tags on AWS::CloudWatch::Dashboard (cfn-lint E3002).
    Tags.of(this).add('app', 'coder-fleet-controller', {
      excludeResourceTypes: ['AWS::CloudWatch::Dashboard'],
    });

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    for (const severity of SEVERITIES) {
      const label = severityLabel(severity);
      output(
        `${label}AlarmTopicArn`,
        controller.alarmTopics[severity].topicArn,
        `SNS topic of ${label} alarms`,
      );
    }
    output('DashboardName', controller.dashboardName, 'CloudWatch dashboard');
    for (const { name, secret, action } of controller.secretsToFill) {
      output(`${name}SecretArn`, secret.secretArn, action);
    }
    if (!controller.secretsToFill.some((s) => s.secret === controller.coderTokenSecret)) {
      output(
        'CoderTokenSecretArn',
        controller.coderTokenSecret.secretArn,
        'The Coder token secret (coder.tokenSecretArn)',
      );
    }
    if (controller.webhookUrl !== undefined && controller.webhookSecret !== undefined) {
      output(
        'WebhookUrl',
        controller.webhookUrl,
        "Coder's webhook endpoint is this URL followed by the pathSecret in WebhookSecretArn",
      );
      output('WebhookSecretArn', controller.webhookSecret.secretArn, 'Holds the webhook path secret');
    }
    if (controller.scaling) {
      output(
        'ScalerFunctionName',
        controller.scaling.function.functionName,
        'Node group scaler (ad hoc: {"dryRun":true})',
      );
      output(
        'SchedulePreviewFunctionName',
        controller.scaling.previewFunction.functionName,
        'Schedule preview',
      );
    }
    if (controller.families) {
      output(
        'FamiliesReconcileFunctionName',
        controller.families.reconcileFunction.functionName,
        'Families reconcile (ad hoc: {"dryRun":true} or {"family":"owner/parent"})',
      );
      output(
        'WebhookFunctionName',
        controller.families.webhookFunction.functionName,
        'Webhook function (its URL: WebhookUrl)',
      );
    }
    if (controller.provisionerKeys) {
      output(
        'KeyHealthFunctionName',
        controller.provisionerKeys.healthFunction.functionName,
        'Key health (ad hoc: {"action":"status"})',
      );
    }
  }
}
