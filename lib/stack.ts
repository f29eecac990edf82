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
 * ad-hoc invocations and the first-deploy steps. Names and ARNs only: no secret value, and not the
 * webhook URL (its path is the secret).
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
        controller.alerting.topics[severity].topicArn,
        `SNS topic of ${label} alarms`,
      );
    }
    output('DashboardName', controller.dashboard.dashboard.dashboardName, 'CloudWatch dashboard');
    output(
      'CoderTokenSecretArn',
      controller.coderTokenSecret.secretArn,
      'Put {"token": "..."} here after deploy',
    );
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
        'Webhook: its URL is in Lambda',
      );
      output(
        'WebhookSecretArn',
        controller.families.webhookSecret.secretArn,
        'Holds the webhook path secret',
      );
    }
    if (controller.provisionerKeys) {
      output(
        'ProvisionerKeySecretArn',
        controller.provisionerKeys.secret.secretArn,
        'Provisioner key (rotate-secret)',
      );
      output(
        'KeyHealthFunctionName',
        controller.provisionerKeys.healthFunction.functionName,
        'Key health (ad hoc: {"action":"status"})',
      );
    }
  }
}
