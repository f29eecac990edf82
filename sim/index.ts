/** The Coder API simulator: a real HTTP server on 127.0.0.1 that behaves like Coder for the controller's routes. */

export { SimClock } from './clock.js';
export { seedDemoFleet } from './demo-seed.js';
export type { CoderResponseBody, ValidationError } from './errors.js';
export { PREBUILDS_SYSTEM_USER_ID } from './model.js';
export { TEMPLATE_IDS as NOTIFICATION_TEMPLATE_IDS } from './notifications.js';
export { queueWaits } from './people.js';
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
export { describeJobDuration } from './provisioning/durations.js';
export { mutateTags, tagsetContains } from './provisioning/tags.js';
export { startCoderSimulator } from './server.js';
export type {
  CoderSimulator,
  CoderSimulatorOptions,
  DaemonPoolSpec,
  FaultConfig,
  JobDuration,
  NotificationMessage,
  PeopleFigures,
  PeopleOptions,
  PeopleStream,
  PersonJob,
  ProvisionerQueueOptions,
  RecordedExchange,
  SimJobView,
  SimProvisioners,
  SimRichParameter,
  SimRichParameterOption,
  SimulatorSeeder,
  SimWorkspaceView,
  WebhookDelivery,
  WorkspaceStatus,
} from './types.js';
