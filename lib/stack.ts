import { Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CoderFleetController } from './coder-fleet-controller.js';
import type { ControllerConfigInput } from './config.js';

export interface CoderFleetControllerStackProps extends StackProps {
  readonly config: ControllerConfigInput;
}

/** The project's own stack: just the controller construct, tagged. */
export class CoderFleetControllerStack extends Stack {
  readonly controller: CoderFleetController;

  constructor(scope: Construct, id: string, props: CoderFleetControllerStackProps) {
    super(scope, id, props);
    this.controller = new CoderFleetController(this, 'Controller', { config: props.config });
    Tags.of(this).add('app', 'coder-fleet-controller');
  }
}
