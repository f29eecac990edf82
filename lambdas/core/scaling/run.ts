import { type Deadline, isDeadlineStop, NO_DEADLINE, type RunCall } from '../contracts/deadline.js';
import type { LogSink } from '../contracts/log-sink.js';
import { type HolidayOutlook, holidayOutlook, type ScalingOverride } from './calendar.js';
import { managedGroups, type NodeGroupConfig, profileNames, type ScalingConfig } from './config.js';
import type { ScalerRequest } from './events.js';
import { type ActionOutcome, executeScalingPlan } from './executor.js';
import {
  type GroupDemand,
  type LiveGroup,
  planNodeGroupScaling,
  preWarmTargets,
  runningFloor,
  type ScalingPlan,
  type Sizes,
} from './planner.js';
import type { NodeGroupPort, OverrideStore, WorkspaceDemandReader } from './ports.js';
import { templateKey, UnknownTemplatesError, unknownTemplates } from './templates.js';

/**
 * One scaler run: apply the request's override change, build the snapshot through the ports,
 * plan, execute, and report. Used by the Lambda handler and the CLI.
 */

export interface ScalerDeps {
  readonly config: ScalingConfig;
  readonly nodeGroups: NodeGroupPort;
  readonly demand: WorkspaceDemandReader;
  readonly overrides: OverrideStore;
  readonly now: () => Date;
  readonly log: LogSink;
}

/** How this run is run, apart from what it is asked: not part of the report. */
export interface ScalerRunOptions {
  /**
   * The time the run has (a Lambda's remaining time minus a margin), passed with every Coder read:
   * a read out of time leaves its group "demand unknown" (nodes kept) and the run `incomplete`.
   * @default none
   */
  readonly deadline?: Deadline | undefined;
}

export interface GroupReport {
  readonly group: string;
  readonly action: 'update' | 'none' | 'skip' | 'fail';
  readonly outcome: ActionOutcome['outcome'];
  readonly current?: Sizes;
  readonly target?: Sizes;
  readonly status?: string;
  readonly runningWorkspaces?: number;
  readonly autostartingSoon?: number;
  /** ceil(running / workspacesPerNode), for workspace groups whose running count is known. */
  readonly runningFloor?: number;
  /** Configured template names Coder does not have: the group's nodes were all kept. */
  readonly unknownTemplates?: readonly string[];
  readonly reason: string;
  readonly error?: string;
}

export interface ScalerReport {
  readonly request: ScalerRequest;
  readonly dryRun: boolean;
  readonly at: string;
  /** When the schedule meant this run to happen, for scheduled runs. */
  readonly scheduledTime?: string;
  readonly profile: ScalingPlan['profile'];
  readonly preWarmFor?: ScalingPlan['preWarmFor'];
  readonly override?: ScalingOverride;
  /** What the request did to the stored override. */
  readonly overrideChange?: 'set' | 'cleared' | 'none-to-clear' | 'would-set' | 'would-clear';
  readonly groups: readonly GroupReport[];
  /**
   * Configured template names (distinct, as Coder matches them) that match no template in Coder;
   * present when this run checked them against Coder's list.
   */
  readonly templatesUnknown?: readonly string[];
  readonly updates: number;
  /** Problems that make the run a failure (after every group was handled). */
  readonly failures: readonly string[];
  /**
   * The invocation ran out of time reading Coder: the groups it could not read were planned as
   * "demand unknown" (nodes kept), which is safe, and the next run reads them. Not a failure.
   */
  readonly incomplete?: { readonly reason: 'deadline'; readonly groups: readonly string[] };
  /** The holidays ahead (a report from a scaler before holiday rules has none). */
  readonly holidays?: HolidayOutlook;
  /** Things to fix that do not fail the run (a calendar with no holiday ahead). */
  readonly warnings?: readonly string[];
}

export class OverrideRequestError extends Error {
  override readonly name = 'OverrideRequestError';
}

const validateOverride = (
  config: ScalingConfig,
  request: Extract<ScalerRequest, { kind: 'set-override' }>,
  now: Date,
): ScalingOverride => {
  const known = profileNames(config);
  const problems: string[] = [];
  if (!known.includes(request.profile))
    problems.push(`profile "${request.profile}" is not one of ${known.join(', ')}`);
  const until = Date.parse(request.until);
  const longest = config.overrides.maxDurationHours * 3600_000;
  if (until <= now.getTime()) problems.push(`until ${request.until} is not in the future`);
  else if (until - now.getTime() > longest) {
    problems.push(
      `until ${request.until} is more than ${config.overrides.maxDurationHours} hours away (overrides are time-boxed)`,
    );
  }
  if (problems.length > 0) throw new OverrideRequestError(`Scaling override refused: ${problems.join('; ')}`);
  return {
    profile: request.profile,
    until: new Date(until).toISOString(),
    reason: request.reason,
    setAt: now.toISOString(),
  };
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

interface TemplateCheck {
  /** Configured names no template in Coder has, by group. */
  readonly unknownByGroup: ReadonlyMap<string, readonly string[]>;
  /** Every such name once (lower-cased); undefined when the check did not run or could not read Coder. */
  readonly templatesUnknown?: readonly string[];
  /** Groups whose check ran out of time reading Coder. */
  readonly outOfTime: readonly string[];
}

/**
 * Checks the template names of every workspace group whose running count was read against the
 * templates Coder has (one request per run), and turns a group that names a template Coder lacks
 * into "demand unknown": its count would be 0 whatever runs there. Read after the counts, so a
 * template renamed while they were read shows up here instead of passing as a count of 0.
 */
const checkConfiguredTemplates = async (
  managed: readonly NodeGroupConfig[],
  demand: Record<string, GroupDemand>,
  reader: WorkspaceDemandReader,
  call: RunCall,
): Promise<TemplateCheck> => {
  const named = managed.flatMap((group) =>
    group.role.kind === 'workspaces' && group.role.templates && demand[group.name]?.kind === 'known'
      ? [{ name: group.name, templates: group.role.templates }]
      : [],
  );
  const unknownByGroup = new Map<string, readonly string[]>();
  if (named.length === 0) return { unknownByGroup, outOfTime: [] };
  let inCoder: readonly string[];
  try {
    inCoder = await reader.listTemplateNames(call);
  } catch (error) {
    for (const group of named) {
      demand[group.name] = {
        kind: 'unknown',
        error: `the templates Coder has could not be read to check the configured names: ${messageOf(error)}`,
      };
    }
    return { unknownByGroup, outOfTime: isDeadlineStop(error) ? named.map((g) => g.name) : [] };
  }
  const all = new Set<string>();
  for (const group of named) {
    const unknown = unknownTemplates(group.templates, inCoder);
    if (unknown.length === 0) continue;
    demand[group.name] = {
      kind: 'unknown',
      error: new UnknownTemplatesError(group.name, unknown, inCoder).message,
    };
    unknownByGroup.set(
      group.name,
      unknown.map((t) => t.name),
    );
    for (const t of unknown) all.add(templateKey(t.name));
  }
  return { unknownByGroup, templatesUnknown: [...all].sort(), outOfTime: [] };
};

export const runNodeGroupScaler = async (
  request: ScalerRequest,
  deps: ScalerDeps,
  options: ScalerRunOptions = {},
): Promise<ScalerReport> => {
  const { config, log } = deps;
  const call: RunCall = { deadline: options.deadline ?? NO_DEADLINE };
  // A dry run may plan for another time (`at`, or a replayed schedule's scheduledTime).
  const now = request.kind === 'run' && request.at ? new Date(request.at) : deps.now();
  const dryRun = request.dryRun;
  const stored = await deps.overrides.get(now);
  let override = stored?.override;
  let overrideChange: ScalerReport['overrideChange'];

  if (request.kind === 'set-override') {
    const next = validateOverride(config, request, now);
    if (dryRun) overrideChange = 'would-set';
    else {
      await deps.overrides.put(next, stored?.version);
      overrideChange = 'set';
      log.info('scaling override set', { override: next, replaced: stored?.override });
    }
    override = next;
  } else if (request.kind === 'clear-override') {
    if (dryRun) overrideChange = 'would-clear';
    else {
      const had = await deps.overrides.clear();
      overrideChange = had ? 'cleared' : 'none-to-clear';
      log.info('scaling override cleared', { cleared: stored?.override });
    }
    override = undefined;
  }

  const managed = managedGroups(config);
  const liveEntries = await Promise.all(
    managed.map(async (group): Promise<[string, LiveGroup]> => {
      const ref =
        group.kind === 'eks-managed'
          ? {
              kind: 'eks-managed' as const,
              clusterName: config.clusterName,
              nodegroupName: group.nodegroupName,
            }
          : { kind: 'auto-scaling-group' as const, autoScalingGroupName: group.autoScalingGroupName };
      try {
        return [group.name, { kind: 'found', ...(await deps.nodeGroups.describe(ref)) }];
      } catch (error) {
        return [group.name, { kind: 'unreadable', error: messageOf(error) }];
      }
    }),
  );

  const preWarm = preWarmTargets(config, now, override);
  const horizonEnd = new Date(now.getTime() + config.schedule.autostartHorizonMinutes * 60_000);
  const outOfTime: string[] = [];
  const demandEntries = await Promise.all(
    managed.map(async (group): Promise<[string, GroupDemand] | undefined> => {
      if (group.role.kind !== 'workspaces') return undefined;
      const templates = group.role.templates;
      try {
        const running = await deps.demand.countRunning(templates, call);
        if (!preWarm?.groups.includes(group.name)) return [group.name, { kind: 'known', running }];
        const autostartingSoon = await deps.demand.countAutostartingBetween(now, horizonEnd, templates, call);
        return [group.name, { kind: 'known', running, autostartingSoon }];
      } catch (error) {
        if (isDeadlineStop(error)) outOfTime.push(group.name);
        return [group.name, { kind: 'unknown', error: messageOf(error) }];
      }
    }),
  );
  const demand: Record<string, GroupDemand> = Object.fromEntries(
    demandEntries.filter((e) => e !== undefined),
  );
  const templateCheck = await checkConfiguredTemplates(managed, demand, deps.demand, call);
  outOfTime.push(...templateCheck.outOfTime);

  const plan = planNodeGroupScaling(
    { config, ...(override ? { override } : {}), groups: Object.fromEntries(liveEntries), demand },
    now,
  );
  const outcomes = await executeScalingPlan(plan, {
    nodeGroups: deps.nodeGroups,
    now,
    tokenWindowMinutes: config.schedule.driftCheckMinutes,
    dryRun,
    log,
  });

  const failures: string[] = [];
  const groups = plan.actions.map((action, i): GroupReport => {
    const outcome = outcomes[i] as ActionOutcome;
    const groupConfig = config.nodeGroups.find((g) => g.name === action.group);
    const groupDemand = demand[action.group];
    const perNode = groupConfig?.role.kind === 'workspaces' ? groupConfig.role.workspacesPerNode : undefined;
    if (outcome.outcome === 'failed') failures.push(`${action.group}: ${outcome.error}`);
    if (groupDemand?.kind === 'unknown' && !outOfTime.includes(action.group))
      failures.push(`${action.group}: running workspaces unknown: ${groupDemand.error}`);
    const namesUnknown = templateCheck.unknownByGroup.get(action.group);
    return {
      group: action.group,
      action: action.kind,
      outcome: outcome.outcome,
      ...('current' in action && action.current ? { current: action.current } : {}),
      ...(action.kind === 'update'
        ? { target: action.target }
        : action.kind === 'none'
          ? { target: action.current }
          : {}),
      ...(action.kind === 'skip' && action.status ? { status: action.status } : {}),
      ...(groupDemand?.kind === 'known'
        ? {
            runningWorkspaces: groupDemand.running,
            ...(groupDemand.autostartingSoon !== undefined
              ? { autostartingSoon: groupDemand.autostartingSoon }
              : {}),
            ...(perNode ? { runningFloor: runningFloor(groupDemand.running, perNode) } : {}),
          }
        : {}),
      ...(namesUnknown ? { unknownTemplates: namesUnknown } : {}),
      reason: outcome.outcome === 'replayed' ? `${action.reason}; ${outcome.note}` : action.reason,
      ...(outcome.outcome === 'failed' ? { error: outcome.error } : {}),
    };
  });

  const holidays = holidayOutlook(config.schedule, now);
  const warnings = holidays.warning ? [holidays.warning] : [];
  if (holidays.warning) log.warn(holidays.warning, { holidays });

  const report: ScalerReport = {
    request,
    dryRun,
    at: plan.at,
    ...(request.kind === 'run' && request.scheduledTime ? { scheduledTime: request.scheduledTime } : {}),
    profile: plan.profile,
    ...(plan.preWarmFor ? { preWarmFor: plan.preWarmFor } : {}),
    ...(override ? { override } : {}),
    ...(overrideChange ? { overrideChange } : {}),
    groups,
    ...(templateCheck.templatesUnknown ? { templatesUnknown: templateCheck.templatesUnknown } : {}),
    updates: outcomes.filter((o) => o.outcome === 'updated').length,
    failures,
    ...(outOfTime.length > 0
      ? { incomplete: { reason: 'deadline' as const, groups: outOfTime.sort() } }
      : {}),
    holidays,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  log.info('scaling plan', { ...report });
  return report;
};

export class ScalingRunError extends Error {
  override readonly name = 'ScalingRunError';
  constructor(readonly report: ScalerReport) {
    super(
      `Node group scaling finished with ${report.failures.length} failure(s): ${report.failures.join('; ')}`,
    );
  }
}
