import { randomUUID } from 'node:crypto';
import { seed004ScalingConfig } from '../config/seed-004.js';
import { CoderFamilyWorkspaces } from '../lambdas/adapters/coder/family-workspaces.js';
import { CoderClient } from '../lambdas/adapters/coder/index.js';
import { CoderProvisionerKeyDirectory } from '../lambdas/adapters/coder/provisioner-keys.js';
import { CoderWorkspaceDemand } from '../lambdas/adapters/coder/workspace-demand.js';
import { silentLog } from '../lambdas/core/contracts/log-sink.js';
import { isMutation } from '../lambdas/core/families/action-kinds.js';
import { familiesConfigSchema } from '../lambdas/core/families/config.js';
import {
  ampleProvisioners,
  InMemoryFamilyLedger,
  InMemoryFamilyLocks,
} from '../lambdas/core/families/in-memory.js';
import type { FamilyReconcileDeps } from '../lambdas/core/families/ports.js';
import { type ReconcileReport, reconcileFamilies } from '../lambdas/core/families/run.js';
import { nextTransitions } from '../lambdas/core/scaling/calendar.js';
import { scalingConfigSchema } from '../lambdas/core/scaling/config.js';
import { InMemoryNodeGroups, InMemoryOverrideStore } from '../lambdas/core/scaling/in-memory.js';
import { runNodeGroupScaler, type ScalerReport } from '../lambdas/core/scaling/run.js';
import { officeHoursDemand, planWeekSavings, type SavingsReport } from '../lambdas/core/scaling/savings.js';
import { intervalScheduler } from '../lambdas/wiring/scheduler.js';
import { startCoderSimulator } from '../sim/index.js';
import { COMMON_OPTIONS, parseCommandArgs } from './args.js';
import {
  DEMO_COUNT_PARAMETER,
  DEMO_TEMPLATE,
  seedDemoFamilies,
  simulatedSeed004Groups,
} from './demo-fleet.js';
import { EXIT } from './errors.js';
import { renderFamiliesReport, warningsLog } from './families.js';
import { familiesProgress } from './families-progress.js';
import { type KeyStatusResult, readKeyStatus, renderKeyStatus } from './keys.js';
import { type CliIo, CliOutput, heading, renderTable } from './output.js';
import { createProgressMeter } from './progress.js';
import { renderSavingsReport } from './savings.js';
import { renderScalerReport } from './scale.js';
import { previewSchedule, renderSchedule, type SchedulePreviewResult } from './schedule.js';
import { DEMO_USAGE } from './usage.js';

export const SIMULATED = 'SIMULATED';

/** How long a build takes in the demo's simulator: long enough to see, short enough to wait for. */
const BUILD_MS = 300;

interface FleetRow {
  readonly owner: string;
  readonly workspace: string;
  readonly count: string;
  readonly status: string;
  readonly role: string;
}

export interface DemoResult {
  readonly command: 'demo';
  readonly simulator: { readonly url: string };
  readonly fleetBefore: readonly FleetRow[];
  readonly plan: ReconcileReport;
  readonly apply: ReconcileReport;
  readonly replan: ReconcileReport;
  readonly fleetAfter: readonly FleetRow[];
  readonly schedule: SchedulePreviewResult;
  readonly scaling: {
    readonly simulated: true;
    readonly now: ScalerReport;
    readonly nextPeak: ScalerReport | undefined;
    readonly savings: SavingsReport;
  };
  readonly keys: KeyStatusResult;
  readonly durationMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const runDemoCommand = async (args: readonly string[], io: CliIo): Promise<number> => {
  const values = parseCommandArgs(args, COMMON_OPTIONS, 'demo', DEMO_USAGE);
  const out = new CliOutput(io, values.json === true);
  if (values.help) {
    io.stdout(`${DEMO_USAGE}\n`);
    return EXIT.ok;
  }
  const started = Date.now();
  out.progress('Starting the embedded Coder simulator (127.0.0.1, in this process) …');
  const sim = await startCoderSimulator({ buildDurationMs: BUILD_MS, record: false });
  out.addSecret(sim.adminToken);
  try {
    seedDemoFamilies(sim.seed);
    const client = new CoderClient({
      baseUrl: sim.url,
      token: sim.adminToken,
      userAgent: 'coder-fleet-demo',
    });

    // --- families ------------------------------------------------------------------------------
    const config = familiesConfigSchema.parse({ templates: [DEMO_TEMPLATE], gracePeriodMs: 0 });
    const ledger = new InMemoryFamilyLedger();
    const deps: FamilyReconcileDeps = {
      config,
      workspaces: new CoderFamilyWorkspaces({
        client,
        templates: config.templates,
        organization: config.organization,
      }),
      ledger,
      locks: new InMemoryFamilyLocks(),
      timers: intervalScheduler,
      now: () => new Date(),
      newRunId: () => `demo-${randomUUID()}`,
      log: warningsLog(out),
      progress: familiesProgress(out, createProgressMeter(io, true), { showActions: false }),
      capacity: ampleProvisioners(),
    };
    const fleet = (): FleetRow[] =>
      sim
        .workspacesSnapshot()
        .filter((w) => w.templateName === DEMO_TEMPLATE)
        .sort((a, b) => a.ownerName.localeCompare(b.ownerName) || a.name.localeCompare(b.name))
        .map((w) => {
          const child = [...ledger.children.values()].find((c) => c.childId === w.id);
          const count = Number(w.parameters[DEMO_COUNT_PARAMETER] ?? '0');
          const role = child
            ? `child ${child.index} of ${child.owner}/${child.parent} (in the ledger)`
            : count >= 1
              ? `parent: wants ${count} children`
              : /-\d+$/.test(w.name)
                ? "the user's own: looks like a child, is not one (left alone)"
                : 'ordinary workspace';
          return { owner: w.ownerName, workspace: w.name, count: String(count), status: w.status, role };
        });
    const fleetTable = (rows: readonly FleetRow[]): string =>
      renderTable(
        ['OWNER', 'WORKSPACE', DEMO_COUNT_PARAMETER, 'STATUS', 'WHAT IT IS'],
        rows.map((r) => [r.owner, r.workspace, r.count, r.status, r.role]),
      );

    const fleetBefore = fleet();
    out.print(heading('Coder Fleet Controller demo: an embedded Coder simulator, no setup'));
    out.print(`Simulator at ${sim.url}, template "${DEMO_TEMPLATE}" (seed 000's families).\n`);
    out.print(heading('1. The fleet before'));
    out.print(`${fleetTable(fleetBefore)}\n`);

    out.progress('Planning families (dry run) …');
    const plan = await reconcileFamilies(deps, { scope: { kind: 'all' }, dryRun: true, trigger: 'operator' });
    out.print(heading('2. families plan (dry run: nothing changes)'));
    out.print(`${renderFamiliesReport(plan)}\n`);

    out.progress('Applying families …');
    const apply = await reconcileFamilies(
      { ...deps, progress: familiesProgress(out, createProgressMeter(io, true), { showActions: true }) },
      {
        scope: { kind: 'all' },
        dryRun: false,
        trigger: 'operator',
      },
    );
    const creating = apply.summary.created;
    out.progress(`Waiting for ${creating} child build(s) to finish …`);
    const childIds = new Set([...ledger.children.values()].map((c) => c.childId));
    const deadline = Date.now() + 5_000;
    const pending = () =>
      sim.workspacesSnapshot().filter((w) => childIds.has(w.id) && w.status !== 'running').length;
    while (pending() > 0 && Date.now() < deadline) await sleep(100);
    // Never wait on a slow machine: finish whatever is still building.
    if (pending() > 0) sim.advanceBuilds();
    out.print(heading('3. families apply'));
    out.print(`${renderFamiliesReport(apply)}\n`);

    out.progress('Planning again: a converged fleet needs nothing …');
    const replan = await reconcileFamilies(deps, {
      scope: { kind: 'all' },
      dryRun: true,
      trigger: 'operator',
    });
    out.print(heading('4. families plan, again'));
    out.print(`${renderFamiliesReport(replan)}\n`);

    const fleetAfter = fleet();
    out.print(heading('5. The fleet after'));
    out.print(`${fleetTable(fleetAfter)}\n`);

    // --- schedule and scaling ------------------------------------------------------------------
    const scaling = scalingConfigSchema.parse(seed004ScalingConfig);
    const now = new Date();
    const schedule = previewSchedule(scaling, now, 7, now, 'seed 004 (built in)');
    out.print(heading("6. schedule: seed 004's calendar, next 7 days"));
    out.print(`${renderSchedule(schedule)}\n`);

    out.progress('Planning node groups (simulated, in memory) …');
    const nodeGroups = simulatedSeed004Groups(scaling, new InMemoryNodeGroups());
    const scalerDeps = (at: Date) => ({
      config: scaling,
      nodeGroups,
      demand: new CoderWorkspaceDemand(client),
      overrides: new InMemoryOverrideStore(),
      now: () => at,
      log: silentLog,
    });
    const scaleNow = await runNodeGroupScaler(
      { kind: 'run', trigger: 'ad-hoc', dryRun: true },
      scalerDeps(now),
    );
    const peak = nextTransitions(scaling.schedule, now, new Date(now.getTime() + 14 * 86_400_000)).find(
      (t) => !t.holiday && t.effectiveProfile === 'peak',
    );
    const scalePeak = peak
      ? await runNodeGroupScaler(
          { kind: 'run', trigger: 'transition', dryRun: true },
          scalerDeps(new Date(peak.atUtc)),
        )
      : undefined;
    out.print(heading('7. scale plan: node groups shaped like seed 004 (SIMULATED: in memory, no AWS)'));
    out.print(`${renderScalerReport(scaleNow, SIMULATED)}\n`);
    if (scalePeak && peak) {
      out.print(`At the next peak transition (${peak.weekday} ${peak.atLocal}):`);
      out.print(`${renderScalerReport(scalePeak, SIMULATED)}\n`);
    }
    const savings = planWeekSavings({
      config: scaling,
      weekOf: now,
      demand: officeHoursDemand(scaling),
    });
    out.print('What the schedule saves this week (coder-fleet scale savings, simulated):');
    out.print(`${renderSavingsReport(savings)}\n`);

    out.progress('Reading provisioner keys …');
    const keyStatus = await readKeyStatus(new CoderProvisionerKeyDirectory(client), {
      config: undefined,
      organization: 'default',
      secretId: undefined,
      region: undefined,
    });
    out.print(heading('8. keys status'));
    out.print(`${renderKeyStatus(keyStatus)}\n`);

    const durationMs = Date.now() - started;
    const conflicts = apply.actions
      .filter((a) => a.kind === 'report-conflict')
      .map((a) => `${a.family.owner}/${'childName' in a ? a.childName : ''}`);
    out.print(heading('What happened'));
    out.print(
      [
        `- The plan listed ${plan.actions.filter(isMutation).length} change(s) and changed nothing.`,
        `- The apply created ${apply.summary.created} child workspace(s) in ${plan.families} families, recorded each in the ownership ledger, and waited for their builds.`,
        conflicts.length > 0
          ? `- ${conflicts.join(', ')} only looked like a child: the name is reported as taken and the workspace was left alone.`
          : '- No name conflicts.',
        `- The second plan had ${replan.actions.filter(isMutation).length} change(s): the fleet has converged.`,
        `- The scaling plan ran the scaler's planner on SIMULATED node groups (nothing in AWS was read or changed).`,
        `- Done in ${(durationMs / 1000).toFixed(1)} s. Point the CLI at a real Coder: coder-fleet families plan --coder-url https://coder.example.com (token in CODER_SESSION_TOKEN).`,
      ].join('\n'),
    );
    if (out.json) {
      const result: DemoResult = {
        command: 'demo',
        simulator: { url: sim.url },
        fleetBefore,
        plan,
        apply,
        replan,
        fleetAfter,
        schedule,
        scaling: { simulated: true, now: scaleNow, nextPeak: scalePeak, savings },
        keys: keyStatus,
        durationMs,
      };
      out.document(result);
    }
    const failed = plan.failures + apply.failures + replan.failures > 0 || replan.actions.some(isMutation);
    return failed ? EXIT.failure : EXIT.ok;
  } finally {
    await sim.close();
    out.progress('Simulator stopped.');
  }
};
