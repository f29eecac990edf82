import type { ReconcileReport } from './run.js';

/**
 * Per-run EMF metric names (namespace CoderFleetController). The CDK alarms watch
 * `FamiliesHardLimited`, `FamilyFailures` and `FamilyChildrenMissing`.
 */
export const FAMILY_METRICS = {
  families: 'Families',
  childrenMissing: 'FamilyChildrenMissing',
  created: 'FamilyChildrenCreated',
  removed: 'FamilyChildrenRemoved',
  conflicts: 'FamilyConflicts',
  failures: 'FamilyFailures',
  hardLimited: 'FamiliesHardLimited',
  skippedLocked: 'FamiliesSkippedLocked',
  /** 1 when the run stopped early (out of time) and left work for the next one; not an error. */
  cutShort: 'FamiliesRunCutShort',
  /** Configured templates that match no template in Coder (renamed, deleted, misspelt): the run changes nothing. */
  templatesUnknown: 'FamilyTemplatesUnknown',
  /** 1 when the run's view of Coder may have been partial (the list moved on every read): removals waited. */
  partialView: 'FamiliesPartialView',
  /** Families whose lock lease was lost or could not be renewed mid-run: their work stopped. */
  lockLost: 'FamiliesLockLost',
  /** A paced run's continuation could not be scheduled (permissions, throttling); the schedule carries on. */
  continuationFailed: 'FamilyContinuationFailed',
} as const;

/**
 * EMF metric names of the run's pacing by Coder's provisioners (`pacingMetrics` below); the
 * dashboard, the alarms and the savings report read the same constants.
 */
export const PROVISIONER_PACING_METRICS = {
  /** The controller's pending + running jobs at the start of a run. */
  controllerActiveJobs: 'FamilyProvisionerJobsActive',
  /** The cap on them this run (derived from the online daemons, or configured). */
  controllerJobCap: 'FamilyProvisionerJobCap',
  /** 1 when the run stopped creating because the cap was reached and children were still missing. */
  atCap: 'FamilyProvisionerAtCap',
  /** Online daemons able to take the managed templates' jobs (the fewest over those templates). */
  matchingDaemons: 'FamilyProvisionerDaemonsOnline',
  /** Jobs waiting in Coder's queue, everyone's. */
  queued: 'ProvisionerQueueSize',
  /** Seconds the oldest pending job not initiated by the controller has waited: people's wait. */
  othersOldestPendingSeconds: 'ProvisionerQueueOldestOthersSeconds',
} as const;

/**
 * The count datapoints of one run, for whichever Lambda ran it. The Coder API counts are not here:
 * the `coderApiMetrics` middleware publishes them once per invocation for every Coder-facing Lambda.
 */
export const familyRunMetrics = (report: ReconcileReport): Array<{ name: string; value: number }> => [
  { name: FAMILY_METRICS.families, value: report.families },
  { name: FAMILY_METRICS.childrenMissing, value: report.summary.childrenMissing },
  { name: FAMILY_METRICS.created, value: report.summary.created },
  { name: FAMILY_METRICS.removed, value: report.summary.removed },
  { name: FAMILY_METRICS.conflicts, value: report.conflicts },
  { name: FAMILY_METRICS.failures, value: report.failures },
  { name: FAMILY_METRICS.hardLimited, value: report.summary.hardLimited },
  { name: FAMILY_METRICS.skippedLocked, value: report.skippedLocked.length },
  // Out of time only: a run paced by the provisioners is not cut short (pacingMetrics says it).
  { name: FAMILY_METRICS.cutShort, value: report.incomplete?.reason === 'deadline' ? 1 : 0 },
  // A run that got this far found every configured template in Coder.
  { name: FAMILY_METRICS.templatesUnknown, value: 0 },
  { name: FAMILY_METRICS.partialView, value: report.view === 'partial' ? 1 : 0 },
  { name: FAMILY_METRICS.lockLost, value: report.lockLost.length },
  ...pacingMetrics(report),
];

/** The pacing's figures, when the run read Coder's provisioners (a run with no job to queue does not). */
const pacingMetrics = (report: ReconcileReport): Array<{ name: string; value: number }> => {
  const pacing = report.pacing;
  if (!pacing) return [];
  const atCap = report.incomplete?.reason === 'provisioner-cap' && report.summary.childrenMissing > 0;
  return [
    { name: PROVISIONER_PACING_METRICS.controllerActiveJobs, value: pacing.active },
    ...(pacing.cap === undefined
      ? []
      : [{ name: PROVISIONER_PACING_METRICS.controllerJobCap, value: pacing.cap }]),
    { name: PROVISIONER_PACING_METRICS.atCap, value: atCap ? 1 : 0 },
    ...(pacing.daemons === undefined
      ? []
      : [{ name: PROVISIONER_PACING_METRICS.matchingDaemons, value: pacing.daemons }]),
    ...(pacing.queued === undefined
      ? []
      : [{ name: PROVISIONER_PACING_METRICS.queued, value: pacing.queued }]),
    ...(pacing.othersOldestPendingSeconds === undefined
      ? []
      : [
          {
            name: PROVISIONER_PACING_METRICS.othersOldestPendingSeconds,
            value: pacing.othersOldestPendingSeconds,
          },
        ]),
  ];
};
