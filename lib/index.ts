/** The package's CDK surface: drop `CoderFleetController` into your own app. */

import { seed004ControllerConfig } from '../config/seed-004.js';

/**
 * The reference deployment's configuration (3,000 workspaces at peak; config/seed-004.json holds
 * the same as JSON): a starting point to copy, and what the project's own `cdk synth` deploys.
 */
export const referenceControllerConfig: typeof seed004ControllerConfig = seed004ControllerConfig;
export { SEVERITIES, type Severity } from './alerting/severity.js';
export {
  CoderFleetController,
  type CoderFleetControllerProps,
  type SecretToFill,
} from './coder-fleet-controller.js';
export { ControllerFunction, type ControllerFunctionProps } from './common/controller-function.js';
export {
  type ControllerConfig,
  type ControllerConfigInput,
  controllerConfigSchema,
  parseControllerConfig,
} from './config.js';
export { WorkspaceFamilies, type WorkspaceFamiliesProps } from './families/construct.js';
export { ProvisionerKeyRotation, type ProvisionerKeyRotationProps } from './keys/construct.js';
export { NodeGroupScaling, type NodeGroupScalingProps } from './scaling/construct.js';
export { CoderFleetControllerStack, type CoderFleetControllerStackProps } from './stack.js';
/** @deprecated The same object as `referenceControllerConfig`, under its old name. */
export { seed004ControllerConfig };
