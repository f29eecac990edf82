/**
 * The subset of Coder's API types the controller uses, as zod schemas that keep unknown fields.
 * Each schema names its swagger definition (`codersdk.X`); test/adapters/coder/swagger-types.test.ts
 * checks every declared field against that definition. Fields Coder omits or nulls when unset
 * (Go pointers, omitempty) are `nullish`.
 */
import { z } from 'zod';

const uuid = z.string();
const time = z.string();

export const WORKSPACE_TRANSITIONS = ['start', 'stop', 'delete'] as const;
export const WORKSPACE_STATUSES = [
  'pending',
  'starting',
  'running',
  'stopping',
  'stopped',
  'failed',
  'canceling',
  'canceled',
  'deleting',
  'deleted',
] as const;
export const PROVISIONER_JOB_STATUSES = [
  'pending',
  'running',
  'succeeded',
  'canceling',
  'canceled',
  'failed',
  'unknown',
] as const;
/** Job statuses Coder counts as "a build is active" (409 on a new build). */
export const ACTIVE_JOB_STATUSES: ReadonlySet<ProvisionerJobStatus> = new Set([
  'pending',
  'running',
  'canceling',
]);

export type WorkspaceTransition = (typeof WORKSPACE_TRANSITIONS)[number];
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];
export type ProvisionerJobStatus = (typeof PROVISIONER_JOB_STATUSES)[number];

/** codersdk.BuildInfoResponse */
export const buildInfoSchema = z.looseObject({
  version: z.string(),
  external_url: z.string().optional(),
  dashboard_url: z.string().optional(),
  deployment_id: z.string().optional(),
  agent_api_version: z.string().optional(),
  provisioner_api_version: z.string().optional(),
  upgrade_message: z.string().optional(),
  workspace_proxy: z.boolean().optional(),
  telemetry: z.boolean().optional(),
});
export type BuildInfo = z.infer<typeof buildInfoSchema>;

/** codersdk.SlimRole */
export const slimRoleSchema = z.looseObject({
  name: z.string(),
  display_name: z.string().optional(),
  organization_id: z.string().optional(),
});

/** codersdk.User */
export const userSchema = z.looseObject({
  id: uuid,
  username: z.string(),
  email: z.string(),
  created_at: time,
  name: z.string().optional(),
  status: z.enum(['active', 'dormant', 'suspended']).optional(),
  organization_ids: z.array(uuid).optional(),
  roles: z.array(slimRoleSchema).optional(),
  login_type: z.string().optional(),
  is_service_account: z.boolean().optional(),
  last_seen_at: time.nullish(),
});
export type User = z.infer<typeof userSchema>;

/** codersdk.Organization */
export const organizationSchema = z.looseObject({
  id: uuid,
  name: z.string(),
  is_default: z.boolean(),
  display_name: z.string().optional(),
  description: z.string().optional(),
  icon: z.string().optional(),
  created_at: time.optional(),
  updated_at: time.optional(),
});
export type Organization = z.infer<typeof organizationSchema>;

/** codersdk.ProvisionerJobInput */
export const provisionerJobInputSchema = z.looseObject({
  workspace_build_id: uuid.optional(),
  template_version_id: uuid.optional(),
  error: z.string().optional(),
});

/** codersdk.ProvisionerJobMetadata: the template and workspace a job is for. */
export const provisionerJobMetadataSchema = z.looseObject({
  template_id: uuid.optional(),
  template_name: z.string().optional(),
  template_display_name: z.string().optional(),
  template_icon: z.string().optional(),
  template_version_name: z.string().optional(),
  workspace_id: uuid.nullish(),
  workspace_name: z.string().optional(),
  workspace_build_transition: z.enum(WORKSPACE_TRANSITIONS).optional(),
});

/** codersdk.ProvisionerJob */
export const provisionerJobSchema = z.looseObject({
  id: uuid,
  status: z.enum(PROVISIONER_JOB_STATUSES),
  error: z.string().nullish(),
  error_code: z.string().nullish(),
  created_at: time.optional(),
  started_at: time.nullish(),
  completed_at: time.nullish(),
  canceled_at: time.nullish(),
  queue_position: z.number().int().optional(),
  queue_size: z.number().int().optional(),
  worker_id: uuid.nullish(),
  worker_name: z.string().nullish(),
  organization_id: uuid.optional(),
  tags: z.record(z.string(), z.string()).nullish(),
  /** Who asked for the job; in the job JSON of current releases (release that added it not verified). */
  initiator_id: uuid.optional(),
  type: z.enum(['template_version_import', 'workspace_build', 'template_version_dry_run']).optional(),
  input: provisionerJobInputSchema.optional(),
  metadata: provisionerJobMetadataSchema.optional(),
  /** Daemons that could take a pending job (the organization's job list only). */
  available_workers: z.array(uuid).nullish(),
  file_id: uuid.optional(),
  logs_overflowed: z.boolean().optional(),
});
export type ProvisionerJob = z.infer<typeof provisionerJobSchema>;

/** codersdk.MatchedProvisioners */
export const matchedProvisionersSchema = z.looseObject({
  count: z.number().int().optional(),
  available: z.number().int().optional(),
  most_recently_seen: time.nullish(),
});

/** codersdk.TemplateVersion: its `job` is the import job, whose tags the template's builds inherit. */
export const templateVersionSchema = z.looseObject({
  id: uuid,
  job: provisionerJobSchema,
  template_id: uuid.nullish(),
  organization_id: uuid.optional(),
  name: z.string().optional(),
  created_at: time.optional(),
  archived: z.boolean().optional(),
  matched_provisioners: matchedProvisionersSchema.nullish(),
});
export type TemplateVersion = z.infer<typeof templateVersionSchema>;

/** codersdk.WorkspaceBuild */
export const workspaceBuildSchema = z.looseObject({
  id: uuid,
  build_number: z.number().int(),
  workspace_id: uuid,
  transition: z.enum(WORKSPACE_TRANSITIONS),
  status: z.enum(WORKSPACE_STATUSES),
  job: provisionerJobSchema,
  workspace_name: z.string().optional(),
  workspace_owner_id: uuid.optional(),
  workspace_owner_name: z.string().optional(),
  template_version_id: uuid.optional(),
  template_version_name: z.string().optional(),
  template_version_preset_id: uuid.nullish(),
  reason: z.string().optional(),
  initiator_id: uuid.optional(),
  initiator_name: z.string().optional(),
  created_at: time.optional(),
  updated_at: time.optional(),
  deadline: time.nullish(),
  max_deadline: time.nullish(),
  daily_cost: z.number().int().optional(),
});
export type WorkspaceBuild = z.infer<typeof workspaceBuildSchema>;

/** codersdk.WorkspaceHealth */
export const workspaceHealthSchema = z.looseObject({
  healthy: z.boolean(),
  failing_agents: z.array(uuid).nullish(),
});

/** codersdk.Workspace */
export const workspaceSchema = z.looseObject({
  id: uuid,
  name: z.string(),
  owner_id: uuid,
  owner_name: z.string(),
  organization_id: uuid,
  template_id: uuid,
  template_name: z.string(),
  latest_build: workspaceBuildSchema,
  organization_name: z.string().optional(),
  template_display_name: z.string().optional(),
  template_active_version_id: uuid.optional(),
  template_require_active_version: z.boolean().optional(),
  outdated: z.boolean().optional(),
  autostart_schedule: z.string().nullish(),
  ttl_ms: z.number().int().nullish(),
  next_start_at: time.nullish(),
  last_used_at: time.optional(),
  created_at: time.optional(),
  updated_at: time.optional(),
  dormant_at: time.nullish(),
  deleting_at: time.nullish(),
  health: workspaceHealthSchema.optional(),
  automatic_updates: z.enum(['always', 'never']).optional(),
  favorite: z.boolean().optional(),
  is_prebuild: z.boolean().optional(),
});
export type Workspace = z.infer<typeof workspaceSchema>;

/** codersdk.WorkspacesResponse */
export const workspacesResponseSchema = z.looseObject({
  workspaces: z.array(workspaceSchema),
  count: z.number().int(),
});
export type WorkspacesResponse = z.infer<typeof workspacesResponseSchema>;

/** codersdk.WorkspaceBuildParameter: every value is a string (lists are JSON inside it). */
export const workspaceBuildParameterSchema = z.looseObject({
  name: z.string(),
  value: z.string(),
});
export type WorkspaceBuildParameter = z.infer<typeof workspaceBuildParameterSchema>;

/** codersdk.TemplateAutostartRequirement */
export const templateAutostartRequirementSchema = z.looseObject({
  days_of_week: z.array(z.string()).nullish(),
});

/** codersdk.Template */
export const templateSchema = z.looseObject({
  id: uuid,
  name: z.string(),
  organization_id: uuid,
  active_version_id: uuid,
  display_name: z.string().optional(),
  organization_name: z.string().optional(),
  description: z.string().optional(),
  deprecated: z.boolean().optional(),
  deprecation_message: z.string().optional(),
  deleted: z.boolean().optional(),
  require_active_version: z.boolean().optional(),
  default_ttl_ms: z.number().int().optional(),
  activity_bump_ms: z.number().int().optional(),
  allow_user_autostart: z.boolean().optional(),
  allow_user_autostop: z.boolean().optional(),
  autostart_requirement: templateAutostartRequirementSchema.optional(),
  time_til_dormant_ms: z.number().int().optional(),
  time_til_dormant_autodelete_ms: z.number().int().optional(),
  failure_ttl_ms: z.number().int().optional(),
  use_classic_parameter_flow: z.boolean().optional(),
  created_at: time.optional(),
  updated_at: time.optional(),
});
export type Template = z.infer<typeof templateSchema>;

/** codersdk.TemplateVersionParameterOption */
export const templateVersionParameterOptionSchema = z.looseObject({
  name: z.string(),
  value: z.string(),
  description: z.string().optional(),
  icon: z.string().optional(),
});

/** codersdk.TemplateVersionParameter */
export const templateVersionParameterSchema = z.looseObject({
  name: z.string(),
  type: z.enum(['string', 'number', 'bool', 'list(string)']),
  display_name: z.string().optional(),
  description: z.string().optional(),
  form_type: z.string().optional(),
  mutable: z.boolean().optional(),
  ephemeral: z.boolean().optional(),
  required: z.boolean().optional(),
  default_value: z.string().optional(),
  icon: z.string().optional(),
  options: z.array(templateVersionParameterOptionSchema).nullish(),
  validation_regex: z.string().nullish(),
  validation_min: z.number().int().nullish(),
  validation_max: z.number().int().nullish(),
  validation_monotonic: z.string().nullish(),
  validation_error: z.string().nullish(),
});
export type TemplateVersionParameter = z.infer<typeof templateVersionParameterSchema>;

/** codersdk.ProvisionerKey: the secret is never part of it. */
export const provisionerKeySchema = z.looseObject({
  id: uuid,
  name: z.string(),
  /** The organization's id; Coder names this field `organization`. */
  organization: uuid.optional(),
  created_at: time.optional(),
  tags: z.record(z.string(), z.string()).nullish(),
});
export type ProvisionerKey = z.infer<typeof provisionerKeySchema>;

/** codersdk.CreateProvisionerKeyResponse: the plaintext key, shown only here. */
export const createProvisionerKeyResponseSchema = z.looseObject({
  key: z.string(),
});
export type CreateProvisionerKeyResponse = z.infer<typeof createProvisionerKeyResponseSchema>;

/** codersdk.ProvisionerDaemonJob */
export const provisionerDaemonJobSchema = z.looseObject({
  id: uuid,
  status: z.enum(PROVISIONER_JOB_STATUSES),
  template_name: z.string().optional(),
  template_display_name: z.string().optional(),
  template_icon: z.string().optional(),
});

/** codersdk.ProvisionerDaemon */
export const provisionerDaemonSchema = z.looseObject({
  id: uuid,
  name: z.string(),
  organization_id: uuid.optional(),
  key_id: uuid.optional(),
  key_name: z.string().nullish(),
  version: z.string().optional(),
  api_version: z.string().optional(),
  provisioners: z.array(z.string()).nullish(),
  tags: z.record(z.string(), z.string()).nullish(),
  created_at: time.optional(),
  last_seen_at: time.nullish(),
  status: z.enum(['offline', 'idle', 'busy']).nullish(),
  current_job: provisionerDaemonJobSchema.nullish(),
  previous_job: provisionerDaemonJobSchema.nullish(),
});
export type ProvisionerDaemon = z.infer<typeof provisionerDaemonSchema>;

/** codersdk.ProvisionerKeyDaemons */
export const provisionerKeyDaemonsSchema = z.looseObject({
  key: provisionerKeySchema,
  daemons: z.array(provisionerDaemonSchema).nullish(),
});
export type ProvisionerKeyDaemons = z.infer<typeof provisionerKeyDaemonsSchema>;

/** codersdk.MinimalOrganization */
export const minimalOrganizationSchema = z.looseObject({
  id: uuid,
  name: z.string().optional(),
  display_name: z.string().optional(),
  icon: z.string().optional(),
});

/** codersdk.AuditLog */
export const auditLogSchema = z.looseObject({
  id: uuid,
  time: time,
  action: z.string(),
  resource_type: z.string(),
  request_id: uuid.optional(),
  ip: z.string().nullish(),
  user_agent: z.string().nullish(),
  resource_id: uuid.optional(),
  resource_target: z.string().optional(),
  resource_icon: z.string().optional(),
  resource_link: z.string().optional(),
  status_code: z.number().int().optional(),
  description: z.string().optional(),
  is_deleted: z.boolean().optional(),
  user: userSchema.nullish(),
  organization: minimalOrganizationSchema.nullish(),
  organization_id: uuid.optional(),
  diff: z.record(z.string(), z.unknown()).nullish(),
  additional_fields: z.unknown().optional(),
});
export type AuditLog = z.infer<typeof auditLogSchema>;

/** codersdk.AuditLogResponse */
export const auditLogResponseSchema = z.looseObject({
  audit_logs: z.array(auditLogSchema),
  count: z.number().int(),
  count_cap: z.number().int().optional(),
});
export type AuditLogResponse = z.infer<typeof auditLogResponseSchema>;

/** codersdk.Response: the body of every Coder error answer. */
export const coderErrorBodySchema = z.looseObject({
  message: z.string().optional(),
  detail: z.string().optional(),
  validations: z.array(z.looseObject({ field: z.string(), detail: z.string() })).nullish(),
});

/** Swagger definition each response schema mirrors; the contract test walks this table. */
export const RESPONSE_SCHEMAS = {
  'codersdk.BuildInfoResponse': buildInfoSchema,
  'codersdk.User': userSchema,
  'codersdk.Organization': organizationSchema,
  'codersdk.Workspace': workspaceSchema,
  'codersdk.WorkspaceBuild': workspaceBuildSchema,
  'codersdk.WorkspacesResponse': workspacesResponseSchema,
  'codersdk.WorkspaceBuildParameter': workspaceBuildParameterSchema,
  'codersdk.Template': templateSchema,
  'codersdk.TemplateVersionParameter': templateVersionParameterSchema,
  'codersdk.ProvisionerJob': provisionerJobSchema,
  'codersdk.ProvisionerJobInput': provisionerJobInputSchema,
  'codersdk.ProvisionerJobMetadata': provisionerJobMetadataSchema,
  'codersdk.MatchedProvisioners': matchedProvisionersSchema,
  'codersdk.TemplateVersion': templateVersionSchema,
  'codersdk.ProvisionerKey': provisionerKeySchema,
  'codersdk.CreateProvisionerKeyResponse': createProvisionerKeyResponseSchema,
  'codersdk.ProvisionerDaemon': provisionerDaemonSchema,
  'codersdk.ProvisionerKeyDaemons': provisionerKeyDaemonsSchema,
  'codersdk.AuditLogResponse': auditLogResponseSchema,
  'codersdk.Response': coderErrorBodySchema,
} as const;

// Request bodies. Plain TS types: the client builds them, and the contract test validates what it
// actually sent against the spec's body schema.

/** codersdk.CreateWorkspaceRequest: send exactly one of template_id / template_version_id. */
export interface CreateWorkspaceRequest {
  name: string;
  template_id?: string;
  template_version_id?: string;
  template_version_preset_id?: string;
  rich_parameter_values?: WorkspaceBuildParameterInput[];
  autostart_schedule?: string;
  ttl_ms?: number;
  automatic_updates?: 'always' | 'never';
}

export interface WorkspaceBuildParameterInput {
  name: string;
  value: string;
}

export type CreateWorkspaceBuildReason =
  | 'dashboard'
  | 'cli'
  | 'ssh_connection'
  | 'vscode_connection'
  | 'jetbrains_connection'
  | 'task_manual_pause'
  | 'task_resume';

/** codersdk.CreateWorkspaceBuildRequest */
export interface CreateWorkspaceBuildRequest {
  transition: WorkspaceTransition;
  template_version_id?: string;
  template_version_preset_id?: string;
  /** Merged over the previous build's values; parameters left out keep their values. */
  rich_parameter_values?: WorkspaceBuildParameterInput[];
  /** Only with `delete`: skip terraform destroy. Needs template admin. */
  orphan?: boolean;
  reason?: CreateWorkspaceBuildReason;
}

/** Body of POST /organizations/{organization}/provisionerkeys (the spec omits it). */
export interface CreateProvisionerKeyRequest {
  name: string;
  tags?: Record<string, string>;
}
