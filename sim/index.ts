/** The Coder API simulator: a real HTTP server on 127.0.0.1 that behaves like Coder for the controller's routes. */

export { seedDemoFleet } from './demo-seed.js';
export type { CoderResponseBody, ValidationError } from './errors.js';
export { TEMPLATE_IDS as NOTIFICATION_TEMPLATE_IDS } from './notifications.js';
export {
  CODER_VERSION_NAMES,
  type CoderVersionName,
  DEFAULT_CODER_VERSION,
  DISAGREEING_PROFILE_NAMES,
  DISAGREEING_PROFILES,
  type DisagreeingProfileName,
  isCoderVersionName,
  isSimProfileName,
  SIM_PROFILES,
  type SimProfile,
  type SimProfileName,
  SUPPORTED_PROFILES,
  simProfile,
} from './profiles/index.js';
export { startCoderSimulator } from './server.js';
export type {
  CoderSimulator,
  CoderSimulatorOptions,
  FaultConfig,
  NotificationMessage,
  RecordedExchange,
  SimRichParameter,
  SimRichParameterOption,
  SimulatorSeeder,
  SimWorkspaceView,
  WebhookDelivery,
  WorkspaceStatus,
} from './types.js';
