/** The package's CDK surface: drop `CoderFleetController` into your own app. */

export { seed004ControllerConfig } from '../config/seed-004.js';
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
