/** What Coder accepts on a workspace: names, build reasons, autostart schedules, TTLs. */
import type { SimTime } from '../clock.js';
import { CoderApiError } from '../errors.js';
import type { SimTemplate, SimWorkspace } from '../model.js';
import { nextScheduledTime, parseWeeklySchedule } from '../schedule.js';

const NAME_PATTERN = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const RESERVED_WORKSPACE_NAMES = new Set(['new', 'create']);
const BUILD_REASONS = new Set([
  'dashboard',
  'cli',
  'ssh_connection',
  'vscode_connection',
  'jetbrains_connection',
  'task_manual_pause',
  'task_resume',
]);
const MINUTE_MS = 60_000;

export function workspaceNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 32) return 'must be between 1 and 32 characters';
  if (!NAME_PATTERN.test(name)) return 'must be alphanumeric with single hyphens between characters';
  if (RESERVED_WORKSPACE_NAMES.has(name.toLowerCase())) return 'is a reserved name';
  return undefined;
}

export function nameTaken(name: string): CoderApiError {
  return new CoderApiError(409, `Workspace "${name}" already exists.`, {
    validations: [{ field: 'name', detail: 'This value is already in use and should be unique.' }],
  });
}

/** A build's `reason`; anything Coder does not know becomes `initiator`. */
export function buildReason(value: unknown): string {
  return typeof value === 'string' && BUILD_REASONS.has(value) ? value : 'initiator';
}

export function computeNextStart(ws: SimWorkspace, template: SimTemplate, time: SimTime): string | null {
  if (ws.autostartSchedule === undefined || !template.allowUserAutostart || ws.deleted) return null;
  return nextScheduledTime(ws.autostartSchedule, new Date(time.now()));
}

export function validateSchedule(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new CoderApiError(400, 'Invalid autostart schedule.', {
      validations: [{ field: 'schedule', detail: 'schedule must be a string' }],
    });
  }
  const parsed = parseWeeklySchedule(value);
  if ('error' in parsed) {
    throw new CoderApiError(400, 'Invalid autostart schedule.', {
      validations: [{ field: 'schedule', detail: `parse schedule: ${parsed.error}` }],
    });
  }
  return value;
}

/** 0 or omitted falls back to the template default; otherwise 1 minute to 30 days after truncating to minutes. */
export function validateTtl(value: unknown, template: SimTemplate): number | undefined {
  if (value === undefined || value === null || value === 0) {
    return template.defaultTtlMs > 0 ? template.defaultTtlMs : undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new CoderApiError(400, 'Invalid Workspace Time to Shutdown.', {
      validations: [{ field: 'ttl_ms', detail: 'ttl_ms must be an integer' }],
    });
  }
  const truncated = Math.floor(value / MINUTE_MS) * MINUTE_MS;
  if (truncated < MINUTE_MS) {
    throw new CoderApiError(400, 'Invalid Workspace Time to Shutdown.', {
      validations: [{ field: 'ttl_ms', detail: 'time until shutdown must be at least one minute' }],
    });
  }
  if (truncated > 30 * 24 * 60 * MINUTE_MS) {
    throw new CoderApiError(400, 'Invalid Workspace Time to Shutdown.', {
      validations: [{ field: 'ttl_ms', detail: 'time until shutdown must be less than 30 days' }],
    });
  }
  return truncated;
}
