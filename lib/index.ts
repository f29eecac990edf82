/** The package's CDK surface: drop `CoderFleetController` into your own app. */
export { CoderFleetController, type CoderFleetControllerProps } from './coder-fleet-controller.js';
export {
  type ControllerConfig,
  type ControllerConfigInput,
  controllerConfigSchema,
  parseControllerConfig,
} from './config.js';
export { ControllerFunction, type ControllerFunctionProps } from './controller-function.js';
export { seed004ControllerConfig } from './example-config.js';
export { NodeGroupScaling, type NodeGroupScalingProps } from './node-group-scaling.js';
export { ProvisionerKeyRotation, type ProvisionerKeyRotationProps } from './provisioner-key-rotation.js';
export { CoderFleetControllerStack, type CoderFleetControllerStackProps } from './stack.js';
export { WorkspaceFamilies, type WorkspaceFamiliesProps } from './workspace-families.js';
