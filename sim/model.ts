/** In-memory records the simulator keeps; the JSON shapes live in serialize.ts. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { JobStatus, SimRichParameter, WorkspaceStatus, WorkspaceTransition } from './types.js';

export interface SimUser {
  id: string;
  username: string;
  email: string;
  name: string;
  /** Site roles, e.g. 'owner', 'template-admin'. */
  roles: string[];
  orgIds: string[];
  token: string;
  createdAt: string;
}

export interface SimOrganization {
  id: string;
  name: string;
  displayName: string;
  isDefault: boolean;
  createdAt: string;
}

export interface SimTemplate {
  id: string;
  orgId: string;
  name: string;
  displayName: string;
  activeVersionId: string;
  activeVersionName: string;
  parameters: SimRichParameter[];
  allowUserAutostart: boolean;
  defaultTtlMs: number;
  createdById: string;
  createdAt: string;
  /** The active version's import job: its id, and its tags (after MutateTags), which build jobs inherit. */
  importJobId: string;
  provisionerTags: Record<string, string>;
}

export interface BuildParameter {
  name: string;
  value: string;
}

export interface SimJob {
  id: string;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  completedAt?: string;
  fileId: string;
  orgId: string;
  initiatorId: string;
  /** The tags a daemon must carry to take it (wsbuilder `getProvisionerTags`). */
  tags: Record<string, string>;
  /** The daemon that acquired it (`worker_id`). */
  workerId?: string;
}

export interface SimBuild {
  id: string;
  workspaceId: string;
  number: number;
  transition: WorkspaceTransition;
  templateVersionId: string;
  initiatorId: string;
  reason: string;
  parameters: BuildParameter[];
  job: SimJob;
  createdAt: string;
  updatedAt: string;
  deadline: string | null;
}

export interface SimWorkspace {
  id: string;
  name: string;
  ownerId: string;
  orgId: string;
  templateId: string;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string;
  autostartSchedule?: string;
  ttlMs?: number;
  nextStartAt: string | null;
  automaticUpdates: 'always' | 'never';
  deleted: boolean;
  /** Oldest first; the last one is the latest build. */
  builds: SimBuild[];
}

export interface SimProvisionerKey {
  id: string;
  orgId: string;
  name: string;
  tags: Record<string, string>;
  /** The plaintext secret; Coder stores a hash, the simulator keeps it to answer key lookups. */
  secret: string;
  createdAt: string;
}

export interface SimProvisionerDaemon {
  id: string;
  orgId: string;
  name: string;
  keyId: string;
  keyName: string;
  tags: Record<string, string>;
  createdAt: string;
  lastSeenAt: string;
  /** What a seeded daemon row reports; a pool daemon's status follows its jobs (see daemonStatus). */
  status: 'idle' | 'busy' | 'offline';
  /** Set for daemons of a provisioner pool (the job queue runs them); seeded rows never take jobs. */
  pool?: string;
  /** A pool daemon that is running: it heartbeats and takes jobs. False once scaled away. */
  live?: boolean;
  /** Scaled away while busy: it finishes its job, then stops (provisionerd's graceful shutdown). */
  draining?: boolean;
  currentJobId?: string;
  previousJobId?: string;
}

export interface SimAuditRow {
  id: string;
  requestId: string;
  time: string;
  userId: string;
  orgId: string;
  resourceType: 'workspace' | 'workspace_build';
  resourceId: string;
  resourceTarget: string;
  resourceLink: string;
  action: 'create' | 'start' | 'stop' | 'delete';
  statusCode: number;
  additionalFields: Record<string, string>;
  userAgent: string;
}

/**
 * The `prebuilds` system user (coderd/database/migrations, `PrebuildsSystemUserID`): jobs it
 * initiates queue behind everyone else's (coder/coder#18933).
 */
export const PREBUILDS_SYSTEM_USER_ID = 'c42fdf75-3097-471c-8c33-fb52454d81c0';

/** Reserved provisioner keys Coder creates per organization, with its fixed IDs. */
export const RESERVED_KEYS: ReadonlyArray<{ name: string; id: string }> = [
  { name: 'built-in', id: '00000000-0000-0000-0000-000000000001' },
  { name: 'user-auth', id: '00000000-0000-0000-0000-000000000002' },
  { name: 'psk', id: '00000000-0000-0000-0000-000000000003' },
];

export const isReservedKeyName = (name: string): boolean =>
  RESERVED_KEYS.some((k) => k.name === name.toLowerCase());

export const ACTIVE_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['pending', 'running', 'canceling']);

/** codersdk.ConvertWorkspaceStatus: the workspace status is the latest build's transition plus job status. */
export function workspaceStatus(transition: WorkspaceTransition, job: JobStatus): WorkspaceStatus {
  switch (job) {
    case 'pending':
      return 'pending';
    case 'running':
      return transition === 'start' ? 'starting' : transition === 'stop' ? 'stopping' : 'deleting';
    case 'succeeded':
      return transition === 'start' ? 'running' : transition === 'stop' ? 'stopped' : 'deleted';
    case 'canceling':
      return 'canceling';
    case 'canceled':
      return 'canceled';
    case 'failed':
      return 'failed';
  }
}

export const newId = (): string => randomUUID();

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

/** Coder's session token format: `<10-char id>-<22-char secret>`. */
export const newSessionToken = (): string => `${randomAlnum(10)}-${randomAlnum(22)}`;

/** 32 random bytes, base64url without padding: 43 characters, like Coder's provisioner keys. */
export const newProvisionerKeySecret = (): string => randomBytes(32).toString('base64url');

export function latestBuild(ws: SimWorkspace): SimBuild {
  const build = ws.builds[ws.builds.length - 1];
  if (build === undefined) throw new Error(`workspace ${ws.id} has no builds`);
  return build;
}

export const latestStatus = (ws: SimWorkspace): WorkspaceStatus => {
  const b = latestBuild(ws);
  return workspaceStatus(b.transition, b.job.status);
};
