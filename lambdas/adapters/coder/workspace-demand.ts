import { CronExpressionParser } from 'cron-parser';
import type { WorkspaceDemandReader } from '../../core/scaling/ports.js';
import type { Workspace } from './index.js';

/** The fields of a workspace the demand count needs. */
export type DemandWorkspace = Pick<
  Workspace,
  'template_name' | 'dormant_at' | 'next_start_at' | 'autostart_schedule'
>;

/** The one CoderClient method this adapter uses. */
export interface WorkspaceLister {
  listWorkspaces(options: {
    q?: string;
  }): Promise<{ readonly workspaces: readonly DemandWorkspace[]; readonly complete: boolean }>;
}

/**
 * The workspace list kept moving while it was read (CoderClient re-reads it first): a count from it
 * could be short, and a short count would lower the floor under running workspaces. The run treats
 * it as demand unknown and keeps every current node, as when Coder cannot be read at all.
 */
export class WorkspaceListUnsettledError extends Error {
  override readonly name = 'WorkspaceListUnsettledError';
}

const settledList = async (coder: WorkspaceLister, q: string): Promise<readonly DemandWorkspace[]> => {
  const list = await coder.listWorkspaces({ q });
  if (!list.complete) {
    throw new WorkspaceListUnsettledError(
      `the Coder workspace list (${q}) changed on every read, so a count from it could be short; keeping current capacity`,
    );
  }
  return list.workspaces;
};

const inTemplates = (workspace: DemandWorkspace, templates?: readonly string[]): boolean =>
  templates === undefined || templates.includes(workspace.template_name);

/**
 * The next autostart of a Coder schedule (`CRON_TZ=<zone> <min> <hour> * * <dow>`) after `from`,
 * for workspaces where the server has not computed `next_start_at`. Undefined when unparsable.
 */
export const nextAutostart = (schedule: string, from: Date): Date | undefined => {
  const match = /^(?:CRON_TZ=(\S+)\s+)?(.+)$/.exec(schedule.trim());
  if (!match?.[2]) return undefined;
  try {
    const expression = CronExpressionParser.parse(match[2], {
      currentDate: new Date(from.getTime() - 1),
      tz: match[1] ?? 'UTC',
    });
    return expression.next().toDate();
  } catch {
    return undefined;
  }
};

/**
 * Workspace demand read from the Coder API (docs/coder-api.md §14).
 *  - Running: `q=status:running`, all pages, then the group's template names.
 *  - Autostarting in [from, to]: `q=status:stopped`, dormant ones dropped on our side (`dormant:`
 *    cannot be negated), kept when `next_start_at` falls in the window, or, when the server did not
 *    compute it, when the cron `autostart_schedule` fires in it. That fallback does not check the
 *    template's allowed days, so it can only over-count, which errs toward warm capacity.
 */
export class CoderWorkspaceDemand implements WorkspaceDemandReader {
  constructor(private readonly coder: WorkspaceLister) {}

  async countRunning(templates?: readonly string[]): Promise<number> {
    const running = await settledList(this.coder, 'status:running');
    return running.filter((w) => inTemplates(w, templates)).length;
  }

  async countAutostartingBetween(from: Date, to: Date, templates?: readonly string[]): Promise<number> {
    const stopped = await settledList(this.coder, 'status:stopped');
    return stopped.filter((w) => {
      if (!inTemplates(w, templates) || w.dormant_at) return false;
      const next = w.next_start_at
        ? new Date(w.next_start_at)
        : w.autostart_schedule
          ? nextAutostart(w.autostart_schedule, from)
          : undefined;
      return next !== undefined && next.getTime() >= from.getTime() && next.getTime() <= to.getTime();
    }).length;
  }
}
