import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { CoderClient } from '../lambdas/adapters/coder/index.js';
import type { LogSink } from '../lambdas/core/contracts/log-sink.js';
import { parseScalerEvent } from '../lambdas/core/scaling/events.js';
import type { Sizes } from '../lambdas/core/scaling/planner.js';
import { runNodeGroupScaler, type ScalerReport } from '../lambdas/core/scaling/run.js';
import { createScalingAwsClients, createScalingEngine } from '../lambdas/wiring/scaling.js';
import { AWS_OPTIONS, CODER_OPTIONS, COMMON_OPTIONS, instant, parseCommandArgs } from './args.js';
import { connectToCoder, createCliCoderClient, resolveCoderTarget } from './coder.js';
import { CliError, EXIT, UsageError } from './errors.js';
import { type CliIo, CliOutput, heading, renderTable } from './output.js';
import { runSavingsCommand } from './savings.js';
import { loadScalingConfig } from './schedule.js';
import { SCALE_USAGE } from './usage.js';

const SCALE_OPTIONS = {
  ...COMMON_OPTIONS,
  ...CODER_OPTIONS,
  ...AWS_OPTIONS,
  config: { type: 'string' },
  profile: { type: 'string' },
  until: { type: 'string' },
  reason: { type: 'string' },
  at: { type: 'string' },
  'override-table': { type: 'string' },
  invoke: { type: 'boolean' },
  'function-name': { type: 'string' },
} as const;

/** The scaler's ad-hoc payload (docs/operations: the same JSON `aws lambda invoke` takes). */
export type ScalerPayload =
  | { dryRun: boolean }
  | { profile: string; until: string; reason: string; dryRun: boolean };

/** What `scale plan|apply` asks the scaler for; the local run and --invoke send the same payload. */
export const scalerPayload = (input: {
  readonly apply: boolean;
  readonly profile?: string | undefined;
  readonly until?: Date | undefined;
  readonly reason?: string | undefined;
  readonly at: Date;
}): ScalerPayload => {
  const dryRun = !input.apply;
  if (input.profile === undefined) return { dryRun };
  const until = input.until ?? new Date(input.at.getTime() + 3_600_000);
  return {
    profile: input.profile,
    until: until.toISOString(),
    reason: input.reason ?? 'coder-fleet CLI',
    dryRun,
  };
};

/** Log lines of a run, for people: updates and failures as they happen. */
const scaleLog = (out: CliOutput): LogSink => ({
  debug() {},
  info(message, extra) {
    if (message === 'node group updated') out.progress(`  updated ${String(extra?.group)}`);
  },
  warn(message) {
    out.warn(message);
  },
  error(message, extra) {
    out.warn(`${message}${extra?.error ? `: ${String(extra.error)}` : ''}`);
  },
});

const sizes = (s: Sizes | undefined): string => (s ? `${s.minSize}/${s.desiredSize}/${s.maxSize}` : '-');

/** The scaler report as a table; `label` marks simulated groups (the demo). */
export const renderScalerReport = (report: ScalerReport, label?: string): string => {
  const profile = report.profile;
  const lines = [
    `${label ? `${label}: ` : ''}profile ${profile.profile} (${profile.source}) at ${profile.localTime}: ${profile.reason}`,
  ];
  if (report.preWarmFor) {
    lines.push(`Pre-warming for ${report.preWarmFor.effectiveProfile} at ${report.preWarmFor.atLocal}.`);
  }
  if (report.overrideChange) lines.push(`Override: ${report.overrideChange}.`);
  lines.push('');
  const rows = report.groups.map((g) => [
    label ? `${g.group} [${label}]` : g.group,
    g.action,
    sizes(g.current),
    g.action === 'update' || g.action === 'none' ? sizes(g.target) : '-',
    g.runningWorkspaces === undefined
      ? '-'
      : `${g.runningWorkspaces}${g.runningFloor !== undefined ? ` (floor ${g.runningFloor})` : ''}`,
    g.outcome,
    g.error && g.error !== g.reason ? `${g.reason} (${g.error})` : g.reason,
  ]);
  lines.push(
    renderTable(['GROUP', 'ACTION', 'NOW min/des/max', 'TARGET', 'RUNNING WS', 'OUTCOME', 'REASON'], rows),
  );
  lines.push('');
  const verb = report.dryRun ? 'would update' : 'updated';
  const count = report.dryRun ? report.groups.filter((g) => g.action === 'update').length : report.updates;
  lines.push(
    `${report.dryRun ? 'Plan' : 'Applied'}: ${count} group(s) ${verb}${report.failures.length > 0 ? `; problems: ${report.failures.join('; ')}` : ''}.`,
  );
  for (const warning of report.warnings ?? []) lines.push(`WARNING: ${warning}.`);
  return lines.join('\n');
};

export const runScaleCommand = async (args: readonly string[], io: CliIo): Promise<number> => {
  const sub = args[0];
  if (sub === '--help' || sub === '-h') {
    io.stdout(`${SCALE_USAGE}\n`);
    return EXIT.ok;
  }
  if (sub === 'savings') return runSavingsCommand(args.slice(1), io);
  if (sub !== 'plan' && sub !== 'apply') {
    throw new UsageError(
      sub === undefined || sub.startsWith('-')
        ? 'scale needs a subcommand: plan, apply or savings'
        : `unknown subcommand "scale ${sub}": use plan, apply or savings`,
      SCALE_USAGE,
    );
  }
  const command = `scale ${sub}`;
  const values = parseCommandArgs(args.slice(1), SCALE_OPTIONS, command, SCALE_USAGE);
  const out = new CliOutput(io, values.json === true);
  if (values.help) {
    io.stdout(`${SCALE_USAGE}\n`);
    return EXIT.ok;
  }
  const apply = sub === 'apply';
  if (values.at !== undefined && (apply || values.invoke)) {
    throw new UsageError(
      '--at only plans locally: apply acts now, and the deployed scaler always plans for now',
      SCALE_USAGE,
    );
  }
  if ((values.until !== undefined || values.reason !== undefined) && values.profile === undefined) {
    throw new UsageError('--until and --reason go with --profile', SCALE_USAGE);
  }
  const at = values.at === undefined ? new Date() : instant(values.at, '--at', SCALE_USAGE);
  const until = values.until === undefined ? undefined : instant(values.until, '--until', SCALE_USAGE);
  const payload = scalerPayload({ apply, profile: values.profile, until, reason: values.reason, at });

  if (values.invoke) {
    const functionName = values['function-name'];
    if (!functionName)
      throw new UsageError('--invoke needs --function-name (the scaling-scheduler function)', SCALE_USAGE);
    out.progress(`Invoking ${functionName} with ${JSON.stringify(payload)} …`);
    const lambda = new LambdaClient(values.region ? { region: values.region } : {});
    const response = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    const body = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError) {
      let detail = body;
      try {
        const parsed = JSON.parse(body) as { errorType?: string; errorMessage?: string };
        detail = `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? body}`;
      } catch {
        // Not JSON: show it as it came.
      }
      throw new CliError(`the scaler Lambda ${functionName} failed: ${detail}`);
    }
    const report = JSON.parse(body) as ScalerReport;
    if (out.json) out.document({ command, mode: 'invoke', functionName, payload, report });
    else {
      out.print(heading(`${command} (via ${functionName})`));
      out.print(renderScalerReport(report));
    }
    return report.failures.length > 0 && apply ? EXIT.failure : EXIT.ok;
  }

  if (!values.config)
    throw new UsageError(`${command} needs the scaling config: --config FILE (or --invoke)`, SCALE_USAGE);
  if (apply && values.profile !== undefined && !values['override-table']) {
    throw new UsageError(
      'pinning a profile with apply needs --override-table: otherwise the next scheduled run would undo it',
      SCALE_USAGE,
    );
  }
  const config = await loadScalingConfig(values.config);
  const target = await resolveCoderTarget(values, io, out, command, SCALE_USAGE, false);
  let client: CoderClient | undefined;
  if (target) {
    client = createCliCoderClient(target);
    await connectToCoder(client, target, out);
  } else {
    out.warn(
      'no Coder given (--coder-url/CODER_URL): running workspaces are unknown, desired sizes are kept as they are',
    );
  }
  const overrideTable = values['override-table'];
  if (!overrideTable)
    out.progress('No --override-table: a stored operator override is not taken into account');
  const aws = createScalingAwsClients({ region: values.region });
  // Once, in the CLI's words: the run itself would put the SDK's error in every group's row.
  await aws.eks.config.credentials();
  const engine = createScalingEngine({
    config,
    aws,
    coder: client ? { client } : { unavailable: 'no Coder given (--coder-url / CODER_URL)' },
    overrideTable,
    log: scaleLog(out),
    now: () => at,
  });
  out.progress(`${apply ? 'Scaling' : 'Planning'} node groups of cluster ${config.clusterName} …`);
  const report = await runNodeGroupScaler(parseScalerEvent(payload), engine);
  if (out.json) out.document({ command, mode: 'local', payload, report });
  else {
    out.print(heading(`${command}: cluster ${config.clusterName}`));
    out.print(renderScalerReport(report));
  }
  const groupFailed = report.groups.some((g) => g.outcome === 'failed');
  return groupFailed || (apply && report.failures.length > 0) ? EXIT.failure : EXIT.ok;
};
