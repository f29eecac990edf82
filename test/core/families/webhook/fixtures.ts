/** Realistic bodies as Coder (and a log shipper) send them, shared by the webhook tests. */

export const IDS = {
  workspace: '6f0c2a52-5a6b-4c1e-9d7e-2b1f0e6c9a11',
  owner: '0b1e8f3c-7d2a-4a65-8c3e-5f9d1a2b3c4d',
  admin: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  template: 'c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f',
  org: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b',
  message: '3c9a5e7b-1d2f-4a6c-8e0b-9f7d5c3a1e2b',
  audit: '7e6d5c4b-3a29-4187-a6b5-c4d3e2f1a0b9',
  build: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
} as const;

export const OTP_CODE = 'otp-7F3K9Q2ZX8';
export const OTP_EMAIL = 'victim.user@example.com';

/** A webhook body, typed loosely enough for tests to edit. */
export interface NotificationBody {
  _version: string;
  msg_id?: string;
  payload: {
    notification_name: string;
    notification_template_id: string;
    user_id: string;
    user_email: string;
    user_username: string;
    labels: Record<string, string>;
    data: Record<string, unknown> | null;
    targets: string[] | null;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

type PayloadFields = Pick<
  NotificationBody['payload'],
  'notification_name' | 'notification_template_id' | 'labels' | 'data' | 'targets'
> &
  Record<string, unknown>;

const envelope = (payload: PayloadFields, msgId: string = IDS.message): NotificationBody => ({
  _version: '1.1',
  msg_id: msgId,
  payload: {
    _version: '1.2',
    user_id: IDS.admin,
    user_email: 'template.admin@example.com',
    user_name: 'Template Admin',
    user_username: 'tadmin',
    actions: [{ label: 'View workspace', url: 'https://coder.example.com/@alice/my-team' }],
    ...payload,
  },
  title: 'title',
  title_markdown: 'title',
  body: 'body',
  body_markdown: 'body',
});

export const workspaceCreated = (msgId: string = IDS.message): NotificationBody =>
  envelope(
    {
      notification_name: 'Workspace Created',
      notification_template_id: '281fdf73-c6d6-4cbb-8ff5-888baf8a2fff',
      labels: { workspace: 'my-team', template: 'dev', version: 'v1', workspace_owner_username: 'alice' },
      data: {
        workspace: { id: IDS.workspace, name: 'my-team' },
        template: { id: IDS.template, name: 'dev' },
        template_version: { id: IDS.build, name: 'v1' },
        owner: { id: IDS.owner, name: 'Alice', email: 'alice@example.com' },
        parameters: [{ name: 'additional_workspaces', value: '3' }],
      },
      targets: [IDS.workspace, IDS.owner, IDS.template, IDS.org],
    },
    msgId,
  );

export const workspaceManuallyUpdated = (): NotificationBody =>
  envelope({
    notification_name: 'Workspace Manually Updated',
    notification_template_id: 'd089fe7b-d5c5-4c0c-aaf5-689859f7d392',
    labels: {
      workspace: 'my-team',
      template: 'dev',
      version: 'v2',
      organization: 'coder',
      initiator: 'alice',
      workspace_owner_username: 'alice',
    },
    data: {
      workspace: { id: IDS.workspace, name: 'my-team' },
      owner: { id: IDS.owner, name: 'Alice', email: 'alice@example.com' },
      parameters: [{ name: 'additional_workspaces', value: '1' }],
    },
    targets: [IDS.workspace, IDS.owner, IDS.template, IDS.org],
  });

/** Sent to the owner, so the recipient fields are the owner's. */
export const workspaceDeleted = (): NotificationBody => ({
  ...envelope({
    notification_name: 'Workspace Deleted',
    notification_template_id: 'f517da0b-cdc9-410f-ab89-a86107c420ed',
    labels: { name: 'my-team', reason: 'initiated by user', initiator: 'admin' },
    data: null,
    targets: [IDS.workspace, IDS.owner, IDS.template, IDS.org],
  }),
  payload: {
    _version: '1.2',
    notification_name: 'Workspace Deleted',
    notification_template_id: 'f517da0b-cdc9-410f-ab89-a86107c420ed',
    user_id: IDS.owner,
    user_email: 'alice@example.com',
    user_name: 'Alice',
    user_username: 'alice',
    actions: [],
    labels: { name: 'my-team', reason: 'initiated by user', initiator: 'admin' },
    data: null,
    targets: [IDS.workspace, IDS.owner, IDS.template, IDS.org],
  },
});

/** The password-reset notification: its label and action URL carry the secret code. */
export const oneTimePasscode = (): NotificationBody =>
  envelope({
    notification_name: 'One-Time Passcode',
    notification_template_id: '62f86a30-2330-4b61-a26d-311ff3b608cf',
    user_email: OTP_EMAIL,
    labels: { one_time_passcode: OTP_CODE },
    actions: [
      { label: 'Reset password', url: `https://coder.example.com/reset?otp=${OTP_CODE}&email=${OTP_EMAIL}` },
    ],
    data: null,
    targets: null,
  });

export const testNotification = (): NotificationBody =>
  envelope({
    notification_name: 'Troubleshooting Notification',
    notification_template_id: 'c425f63e-716a-4bf4-ae24-78348f706c3f',
    labels: {},
    data: null,
    targets: null,
  });

/** One line of coderd's slog JSON output for an audit row (Go field names under `fields`). */
export const slogAuditLine = (overrides: Record<string, unknown> = {}) => ({
  ts: '2025-06-01T12:00:00.000Z',
  level: 'INFO',
  msg: 'audit_log',
  caller: '/home/runner/work/coder/coder/enterprise/audit/backends/slog.go:70',
  func: 'github.com/coder/coder/v2/enterprise/audit/backends.(*SlogExporter).ExportStruct',
  logger_names: ['coderd'],
  fields: {
    ID: IDS.audit,
    Time: '2025-06-01T12:00:00.000Z',
    UserID: IDS.owner,
    OrganizationID: IDS.org,
    Ip: '10.0.0.7',
    UserAgent: 'Mozilla/5.0',
    ResourceType: 'workspace',
    ResourceID: IDS.workspace,
    ResourceTarget: 'my-team',
    Action: 'create',
    Diff: { owner_id: { old: '', new: IDS.owner, secret: false }, name: { old: '', new: 'my-team' } },
    StatusCode: 201,
    AdditionalFields: {},
    RequestID: IDS.build,
    ResourceIcon: '',
    actor: { id: IDS.owner, email: 'alice@example.com', username: 'alice' },
    ...overrides,
  },
});

/** A workspace_build audit row as the REST API names it, with additional_fields as JSON text. */
export const flatBuildAudit = (overrides: Record<string, unknown> = {}) => ({
  id: '5d4c3b2a-1908-4f7e-8d6c-5b4a39281706',
  time: '2025-06-01T12:01:00.000Z',
  resource_type: 'workspace_build',
  resource_id: IDS.build,
  resource_target: '',
  action: 'start',
  status_code: 200,
  additional_fields: JSON.stringify({
    workspace_name: 'my-team',
    build_number: '2',
    build_reason: 'initiator',
    workspace_owner: 'alice',
    workspace_id: IDS.workspace,
  }),
  ...overrides,
});
