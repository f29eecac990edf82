import { CronExpressionParser } from 'cron-parser';
import type { RunCall } from '../../core/contracts/deadline.js';
import type { WorkspaceDemandReader } from '../../core/scaling/ports.js';
import { distinctTemplates, templateKey } from '../../core/scaling/templates.js';
import type { ReadOptions, Template, Workspace } from './index.js';

/** The fields of a workspace the demand count needs. */
export type DemandWorkspace = Pick<
  Workspace,
  'template_name' | 'dormant_at' | 'next_start_at' | 'autostart_schedule'
>;

/** The two CoderClient methods this adapter uses; each call carries the run's deadline. */
export interface WorkspaceLister {
  listWorkspaces(options: ReadOptions & { q?: string; rereads?: number }): Promise<{
    readonly workspaces: readonly DemandWorkspace[];
    readonly complete: boolean;
    readonly count: number;
  }>;
  listTemplates(
    organization: undefined,
    options: ReadOptions,
  ): Promise<ReadonlyArray<Pick<Template, 'name'>>>;
}

/**
 * The workspace list kept moving while it was read (CoderClient re-reads it first): a count from it
 * could be short, and a short count would lower the floor under running workspaces. The run treats
 * it as demand unknown and keeps every current node, as when Coder cannot be read at all.
 */
export class WorkspaceListUnsettledError extends Error {
  override readonly name = 'WorkspaceListUnsettledError';
}

const settledList = async (
  coder: WorkspaceLister,
  q: string,
  call: RunCall,
): Promise<readonly DemandWorkspace[]> => {
  const list = await coder.listWorkspaces({ q, deadline: call.deadline });
  if (!list.complete) {
    throw new WorkspaceListUnsettledError(
      `the Coder workspace list (${q}) changed on every read, so a count from it could be short; keeping current capacity`,
    );
  }
  return list.workspaces;
};

/** A `template:` search term. Coder's names are letters, digits and hyphens; anything else is quoted. */
const templateTerm = (name: string): string =>
  /^[A-Za-z0-9_-]+$/.test(name) ? `template:${name}` : `template:"${name}"`;

/** One query for every template, or one per template (Coder filters by template server-side). */
const queriesFor = (status: 'running' | 'stopped', templates?: readonly string[]): string[] =>
  templates === undefined
    ? [`status:${status}`]
    : distinctTemplates(templates).map((t) => `status:${status} ${templateTerm(t)}`);

const inTemplates = (workspace: DemandWorkspace, templates?: readonly string[]): boolean =>
  templates === undefined || templates.some((t) => templateKey(t) === templateKey(workspace.template_name));

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
 * Workspace demand read from the Coder API (docs/coder-api.md §3, §14). Template names match as
 * Coder matches them, case-insensitively (core/scaling/templates.ts).
 *  - Running: `q=status:running template:<name>` per configured template (or `status:running`),
 *    and the largest `count` Coder reported on any page: each page's `count` is the total at that
 *    moment, which includes every workspace running throughout the read, so rows that shift between
 *    pages (a workspace stopping, starting, renamed or deleted meanwhile) can make it larger, never
 *    smaller than what ran throughout. The rows themselves are not counted: one skipped at a page
 *    boundary would make the count short. The list is read once (no re-reads) for the same reason.
 *  - Autostarting in [from, to]: `q=status:stopped` (per template likewise), dormant ones dropped
 *    on our side (`dormant:` cannot be negated), kept when `next_start_at` falls in the window, or,
 *    when the server did not compute it, when the cron `autostart_schedule` fires in it. That
 *    fallback does not check the template's allowed days, so it can only over-count, which errs
 *    toward warm capacity. These are rows, so a list that moved on every read is refused.
 */
export class CoderWorkspaceDemand implements WorkspaceDemandReader {
  constructor(private readonly coder: WorkspaceLister) {}

  async countRunning(templates: readonly string[] | undefined, call: RunCall): Promise<number> {
    const counts = await Promise.all(
      queriesFor('running', templates).map(async (q) => {
        const list = await this.coder.listWorkspaces({ q, rereads: 0, deadline: call.deadline });
        return Math.max(list.count, list.workspaces.length);
      }),
    );
    return counts.reduce((sum, n) => sum + n, 0);
  }

  async countAutostartingBetween(
    from: Date,
    to: Date,
    templates: readonly string[] | undefined,
    call: RunCall,
  ): Promise<number> {
    const lists = await Promise.all(
      queriesFor('stopped', templates).map((q) => settledList(this.coder, q, call)),
    );
    return lists.flat().filter((w) => {
      if (!inTemplates(w, templates) || w.dormant_at) return false;
      const next = w.next_start_at
        ? new Date(w.next_start_at)
        : w.autostart_schedule
          ? nextAutostart(w.autostart_schedule, from)
          : undefined;
      return next !== undefined && next.getTime() >= from.getTime() && next.getTime() <= to.getTime();
    }).length;
  }

  async listTemplateNames(call: RunCall): Promise<readonly string[]> {
    // GET /api/v2/templates lists every organization's templates the token can read, deprecated
    // ones included unless `deprecated:false` is asked (coderd/searchquery/search.go `Templates`).
    return (await this.coder.listTemplates(undefined, { deadline: call.deadline })).map((t) => t.name);
  }
}
