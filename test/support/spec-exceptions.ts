/**
 * Every place where the project knowingly departs from Coder's generated spec
 * (vendor/coder/swagger.json), each with its reason. The contract tests apply these and
 * nothing else; see docs/coder-api.md §15 for the upstream gaps.
 */
export interface SpecException {
  /** `METHOD /path/template` as in swagger.json, or `*` for a rule that applies to every body. */
  readonly operation: string;
  readonly what:
    | 'request-body-schema'
    | 'response-nulls'
    | 'undeclared-operation'
    | 'definition-patch'
    | 'undeclared-query-param';
  readonly schema?: Record<string, unknown>;
  /** For `definition-patch`: the definition and property whose schema is replaced by `schema`. */
  readonly definition?: string;
  readonly property?: string;
  /** For `undeclared-query-param`: the query parameters the handler reads that the spec leaves out. */
  readonly params?: readonly string[];
  readonly reason: string;
}

export const SPEC_EXCEPTIONS: readonly SpecException[] = [
  {
    operation: '*',
    what: 'response-nulls',
    reason:
      'Swagger 2.0 cannot say "nullable". Coder serialises unset Go pointers as null (dormant_at, next_start_at, ' +
      'deadline, job.started_at, ...), so null values are removed before a response is validated.',
  },
  {
    operation: 'POST /api/v2/organizations/{organization}/provisionerkeys',
    what: 'request-body-schema',
    schema: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 64 },
        tags: { type: 'object', additionalProperties: { type: 'string' } },
      },
      additionalProperties: false,
    },
    reason:
      'The spec documents no body for creating a provisioner key; coderd reads codersdk.CreateProvisionerKeyRequest ' +
      '{name, tags} (enterprise/coderd/provisionerkeys.go).',
  },
  {
    operation: '*',
    what: 'definition-patch',
    definition: 'codersdk.Template',
    property: 'organization_name',
    schema: { type: 'string' },
    reason:
      'Tagged format:"url" in the spec, but coderd fills it with the organization name (e.g. "coder"), ' +
      'so every template response would fail the format check.',
  },
  {
    operation: '*',
    what: 'definition-patch',
    definition: 'codersdk.User',
    property: 'avatar_url',
    schema: { type: 'string' },
    reason: 'Tagged format:"uri", but coderd sends "" for a user without an avatar.',
  },
  {
    operation: '*',
    what: 'definition-patch',
    definition: 'codersdk.WorkspaceBuild',
    property: 'reason',
    schema: {
      type: 'string',
      enum: [
        'initiator',
        'autostart',
        'autostop',
        'dormancy',
        'dashboard',
        'cli',
        'ssh_connection',
        'vscode_connection',
        'jetbrains_connection',
        'task_auto_pause',
        'task_manual_pause',
        'task_resume',
      ],
    },
    reason:
      'The spec lists only initiator|autostart|autostop, but coderd returns the reason the build was requested ' +
      'with (codersdk.CreateWorkspaceBuildReason: dashboard, cli, ...), see docs/coder-api.md §3.',
  },
  {
    operation: 'GET /api/v2/organizations/{organization}/provisionerdaemons',
    what: 'undeclared-query-param',
    params: ['offline', 'max_age'],
    reason:
      'coder/coder#19378 added offline, status and max_age to the handler (coderd/provisionerdaemons.go); the ' +
      "spec's annotations declare status only (with job statuses) and not the other two.",
  },
  {
    operation: 'GET /healthz',
    what: 'undeclared-operation',
    reason: 'coderd serves /healthz (plain-text "OK", no auth) but the generated spec does not list it.',
  },
];

/** Query parameters an operation accepts beyond the ones the spec declares (listed exceptions). */
export const undeclaredQueryParams = (operation: string): readonly string[] =>
  SPEC_EXCEPTIONS.filter((e) => e.what === 'undeclared-query-param' && e.operation === operation).flatMap(
    (e) => e.params ?? [],
  );

export const definitionPatches = (): SpecException[] =>
  SPEC_EXCEPTIONS.filter((e) => e.what === 'definition-patch');

export const findException = (operation: string, what: SpecException['what']): SpecException | undefined =>
  SPEC_EXCEPTIONS.find(
    (exception) =>
      exception.what === what && (exception.operation === operation || exception.operation === '*'),
  );
