import { writeFile } from 'node:fs/promises';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchFamiliesPacingHistory } from '../lambdas/adapters/aws/families-pacing-history.js';
import { CloudWatchScalingHistory } from '../lambdas/adapters/aws/scaling-history.js';
import { PROVISIONER_PACING_METRICS } from '../lambdas/core/families/metrics.js';
import { catchUpJobHours } from '../lambdas/core/scaling/catch-up-job-hours.js';
import { managedGroups, type ScalingConfig } from '../lambdas/core/scaling/config.js';
import {
  officeHoursDemand,
  planWeekSavings,
  type SavingsReport,
  SEED_004_DEMAND,
} from '../lambdas/core/scaling/savings.js';
import { renderSavingsChart } from '../lambdas/core/scaling/savings-chart.js';
import { historySavings } from '../lambdas/core/scaling/savings-history.js';
import { FUNCTION, METRICS_NAMESPACE } from '../lambdas/wiring/names.js';
import {
  AWS_OPTIONS,
  COMMON_OPTIONS,
  calendarDate,
  parseCommandArgs,
  positiveInt,
  wholeNumber,
} from './args.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { type CliIo, CliOutput, heading, renderTable } from './output.js';
import { scalingConfigOrSeed } from './schedule.js';
import { SAVINGS_USAGE } from './usage.js';

const SAVINGS_OPTIONS = {
  ...COMMON_OPTIONS,
  ...AWS_OPTIONS,
  config: { type: 'string' },
  weeks: { type: 'string' },
  'week-of': { type: 'string' },
  svg: { type: 'string' },
  'peak-running': { type: 'string' },
  'off-hours-running': { type: 'string' },
  service: { type: 'string' },
  'families-service': { type: 'string' },
} as const;

/** The scheduler Lambda's Powertools service name (its function name): the `service` dimension of its metrics. */
const SCALER_SERVICE = FUNCTION.scalingScheduler;
const MAX_WEEKS = 26;

const nodeHours = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
/**
 * The families catch-up's line: job-hours of the controller's own builds over the window, said
 * apart from node-hours; no datapoint at all is said as such, not as a measured 0.
 */
const catchUpLine = (report: SavingsReport): string[] => {
  const catchUp = report.familiesCatchUp;
  if (catchUp === undefined) return [];
  const label = 'Provisioner job-hours on the families catch-up';
  if (catchUp.kind === 'no-metrics') {
    return [
      `- ${label}: no families pacing metrics in the window (${PROVISIONER_PACING_METRICS.controllerActiveJobs}, service ${catchUp.service}): no run was about to queue a build, or the families controller publishes elsewhere (--families-service, --region).`,
    ];
  }
  const over = report.weeks === 1 ? 'the week' : `the ${report.weeks} weeks`;
  return [
    `- ${label}, over ${over}: ${nodeHours(catchUp.jobHours)} (the controller's own builds in flight, pending included, hourly mean over its ${catchUp.pacedRuns} paced ${catchUp.pacedRuns === 1 ? 'run' : 'runs'} in ${catchUp.hoursWithRuns} h; job-hours, not node-hours); at its cap ${catchUp.hoursAtCap} h.`,
  ];
};

const usd = (n: number | undefined): string =>
  n === undefined
    ? '-'
    : `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The report as a table, the split and the reasons underneath. */
export const renderSavingsReport = (report: SavingsReport): string => {
  const perWeek = report.weeks > 1 ? ` (per week, mean of ${report.weeks} weeks)` : '';
  const rows = report.groups.map((g) => [
    g.group,
    g.instanceType ?? '-',
    g.price ? `$${g.price.usdPerHour}` : '-',
    nodeHours(g.scheduleNodeHours),
    nodeHours(g.baselineNodeHours),
    `${nodeHours(g.savedNodeHours)} (${g.savedPercent}%)`,
    nodeHours(g.fromLowerFloorNodeHours),
    nodeHours(g.fromFollowingDemandNodeHours),
    nodeHours(g.demandBlindEstimateNodeHours),
    usd(g.savedUsd),
  ]);
  const t = report.total;
  rows.push([
    'TOTAL',
    '',
    '',
    nodeHours(t.scheduleNodeHours),
    nodeHours(t.baselineNodeHours),
    nodeHours(t.savedNodeHours),
    '',
    '',
    '',
    usd(t.savedUsd),
  ]);
  const lines = [
    `${report.source === 'simulation' ? 'Simulated' : 'Measured'} ${report.from} to ${report.to} (${report.timeZone}, ${report.windowHours} h)${perWeek}.`,
    `Baseline: ${report.peakProfile.reason}; held all week with the same demand. Demand: ${report.demand}.`,
    '',
    `Node-hours${perWeek ? ' per week' : ''}: under the SCHEDULE, with the PEAK profile all week, SAVED, of that BY the lower FLOOR and BY following DEMAND, and a demand-BLIND ESTimate (floor gap × hours); $ SAVED a week.`,
    '',
    renderTable(
      // Short headers so the table fits 120 columns; the line above the table says what they count.
      [
        'GROUP',
        'INSTANCE',
        '$/H',
        'SCHEDULE',
        'PEAK',
        'SAVED',
        'BY FLOOR',
        'BY DEMAND',
        'BLIND EST.',
        '$ SAVED',
      ],
      rows,
    ),
    '',
    ...report.groups.map((g) => `- ${g.group}: ${g.explanation}.`),
    `- In dollars: ${usd(t.scheduleUsd)} a week under the schedule against ${usd(t.baselineUsd)}${t.unpriced.length > 0 ? ` (without ${t.unpriced.join(', ')}: no price)` : ''}.`,
    ...catchUpLine(report),
    ...report.notes.map((n) => `- Note: ${n}.`),
    ...(report.groups.some((g) => g.price?.source !== 'config prices')
      ? [
          `- Prices: ${[...new Set(report.groups.flatMap((g) => (g.price ? [g.price.source] : [])))].join('; ')}.`,
        ]
      : []),
  ];
  return lines.join('\n');
};

const simulate = (
  config: ScalingConfig,
  values: { 'week-of'?: string; 'peak-running'?: string; 'off-hours-running'?: string },
): SavingsReport => {
  const weekOf =
    values['week-of'] === undefined ? undefined : calendarDate(values['week-of'], '--week-of', SAVINGS_USAGE);
  const count = (value: string | undefined, flag: string, fallback: number): number =>
    value === undefined ? fallback : wholeNumber(value, flag, SAVINGS_USAGE, 0, 1_000_000);
  const demand = officeHoursDemand(config, {
    peakRunning: count(values['peak-running'], '--peak-running', SEED_004_DEMAND.peakRunning),
    offHoursRunning: count(
      values['off-hours-running'],
      '--off-hours-running',
      SEED_004_DEMAND.offHoursRunning,
    ),
  });
  // Noon UTC on the given date is that date in every zone from UTC-11 to UTC+11.
  const at = weekOf === undefined ? new Date() : new Date(`${weekOf}T12:00:00Z`);
  const report = planWeekSavings({ config, weekOf: at, demand });
  return {
    ...report,
    notes: [...report.notes, 'the families catch-up’s provisioner job-hours are only measured (--weeks N)'],
  };
};

export const runSavingsCommand = async (args: readonly string[], io: CliIo): Promise<number> => {
  const command = 'scale savings';
  const values = parseCommandArgs(args, SAVINGS_OPTIONS, command, SAVINGS_USAGE);
  const out = new CliOutput(io, values.json === true);
  if (values.help) {
    io.stdout(`${SAVINGS_USAGE}\n`);
    return EXIT.ok;
  }
  const history = values.weeks !== undefined;
  if (
    history &&
    (values['week-of'] !== undefined ||
      values['peak-running'] !== undefined ||
      values['off-hours-running'] !== undefined)
  ) {
    throw new UsageError(
      '--weeks reads what the scaler did: --week-of, --peak-running and --off-hours-running only shape a simulated week',
      SAVINGS_USAGE,
    );
  }
  if (!history && values['families-service'] !== undefined) {
    throw new UsageError(
      '--families-service names whose pacing metrics --weeks reads: a simulated week does not measure the families catch-up',
      SAVINGS_USAGE,
    );
  }
  if (values['families-service'] === '') {
    throw new UsageError('--families-service needs a service name (e.g. families-reconcile)', SAVINGS_USAGE);
  }
  const { config, source } = await scalingConfigOrSeed(values.config, out);
  let report: SavingsReport;
  if (history) {
    const weeks = positiveInt(values.weeks as string, '--weeks', SAVINGS_USAGE, MAX_WEEKS);
    const to = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const from = new Date(to.getTime() - weeks * 7 * 86_400_000);
    const service = values.service ?? SCALER_SERVICE;
    const familiesService = values['families-service'] ?? FUNCTION.familiesReconcile;
    out.progress(
      `Reading ${weeks} week(s) of ${METRICS_NAMESPACE} metrics (services ${service} and ${familiesService}) from CloudWatch …`,
    );
    const cloudWatch = new CloudWatchClient(values.region ? { region: values.region } : {});
    const [histories, pacing] = await Promise.all([
      new CloudWatchScalingHistory({ cloudWatch, namespace: METRICS_NAMESPACE, service }).read(
        managedGroups(config).map((g) => g.name),
        from,
        to,
      ),
      new CloudWatchFamiliesPacingHistory({
        cloudWatch,
        namespace: METRICS_NAMESPACE,
        service: familiesService,
      }).read(from, to),
    ]);
    report = {
      ...historySavings({ config, histories, from, to, weeks }),
      familiesCatchUp: { service: familiesService, ...catchUpJobHours(pacing, from, to) },
    };
    if (report.coveredHours === 0) {
      throw new CliError(
        `no hour from ${from.toISOString()} to ${to.toISOString()} has TargetDesiredSize for every group of ${source} ` +
          `(namespace ${METRICS_NAMESPACE}, service ${service}): check --region, --service and that the scaler is deployed; ` +
          'without --weeks the command simulates a week instead',
      );
    }
  } else {
    report = simulate(config, values);
  }
  if (values.svg) {
    await writeFile(values.svg, renderSavingsChart(report, config.schedule));
    out.progress(`Wrote the chart of ${report.chart.from} to ${report.chart.to} to ${values.svg}`);
  }
  if (out.json) out.document({ command, configSource: source, ...report });
  else {
    out.print(heading(`What the schedule saves (${source})`));
    out.print(renderSavingsReport(report));
  }
  return EXIT.ok;
};
