/**
 * The CLI's manners, in process (runCli with captured output): --version, "did you mean", a Coder
 * URL copied with its /api/v2, progress that only a person at a terminal sees, and the stored
 * build-parameter cache behind `families plan --ledger-table`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { familiesProgress } from '../../cli/families-progress.js';
import { runCli } from '../../cli/main.js';
import { type CliIo, CliOutput } from '../../cli/output.js';
import { createProgressMeter, progressLine } from '../../cli/progress.js';
import { renderSavingsReport } from '../../cli/savings.js';
import { closest } from '../../cli/suggest.js';
import {
  peakAndOffHoursDemand,
  planWeekSavings,
  SEED_004_DEMAND,
} from '../../lambdas/core/scaling/savings.js';
import packageJson from '../../package.json' with { type: 'json' };
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { seedConfig } from '../core/scaling/fixtures.js';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite.js';

const TEMPLATE = 'kubernetes-multi';
const LEDGER = 'usability-ledger';

const capture = (env: Record<string, string | undefined> = {}, interactive = false) => {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (t) => {
      out.stdout += t;
    },
    stderr: (t) => {
      out.stderr += t;
    },
    env,
    interactive,
  };
  return { io, out };
};

describe('coder-fleet --version and "did you mean"', () => {
  it('--version prints the package version', async () => {
    const { io, out } = capture();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(out.stdout).toContain(`coder-fleet ${packageJson.version}`);
  });

  it.each([
    [['famlies', 'plan'], 'unknown command "famlies"; did you mean "families"?'],
    [['families', 'paln'], 'did you mean "plan"?'],
    [['keys', 'rotat'], 'did you mean "rotate"?'],
    [
      ['families', 'plan', '--ledger-tabel', 't'],
      'unknown option --ledger-tabel for "families plan"; did you mean "--ledger-table"?',
    ],
    [['schedule', '--dasy', '3'], 'did you mean "--days"?'],
    [['--verison'], 'did you mean "--version"?'],
  ])('%j suggests the closest', async (argv, expected) => {
    const { io, out } = capture();
    expect(await runCli(argv, io)).toBe(2);
    expect(out.stderr).toContain(expected);
  });

  it('suggests nothing when nothing is close', () => {
    expect(closest('xyzzy', ['families', 'scale', 'schedule', 'keys'])).toBeUndefined();
  });

  it('keys rotate without --secret-id is bad usage that names the flag', async () => {
    const { io, out } = capture({
      CODER_URL: 'https://coder.example.com',
      CODER_SESSION_TOKEN: 'session-token-0123456789',
    });
    expect(await runCli(['keys', 'rotate'], io)).toBe(2);
    expect(out.stderr).toContain('pass --secret-id');
  });
});

describe('progress', () => {
  it('says counts, rate and what is left', () => {
    expect(progressLine('reading build parameters', 1200, 3000, 10)).toBe(
      'reading build parameters: 1,200/3,000 (120/s), 1,800 left, about 15 s',
    );
    expect(progressLine('actions carried out', 7, undefined, 2)).toBe('actions carried out: 7 (3.5/s)');
  });

  it('draws only for a person at a terminal: not with --json, not in CI, not into a pipe', () => {
    const draws = (env: Record<string, string>, interactive: boolean, json: boolean) => {
      const { io, out } = capture(env, interactive);
      const meter = createProgressMeter(io, json);
      meter.start('x', 2);
      meter.add(2);
      meter.done();
      return out.stderr;
    };
    expect(draws({}, true, false)).toContain('x: 2/2');
    expect(draws({}, true, true)).toBe('');
    expect(draws({ CI: 'true' }, true, false)).toBe('');
    expect(draws({}, false, false)).toBe('');
  });

  it("moves while build parameters are read and while actions are carried out, from the engine's events", () => {
    // Prepare: a meter that records what it is told.
    const started: Array<[string, number | undefined]> = [];
    const ticks: number[] = [];
    let done = 0;
    const meter = {
      active: true,
      start: (label: string, total?: number) => started.push([label, total]),
      add: (n = 1) => ticks.push(n),
      done: () => {
        done++;
      },
    };
    const { io } = capture();
    const progress = familiesProgress(new CliOutput(io, false), meter, { showActions: true });
    const family = { owner: 'alice', parent: 'team' };
    const action = {
      kind: 'create-child' as const,
      family,
      index: 1,
      childName: 'team-1',
      ownerName: 'alice',
      organizationId: 'o',
      templateId: 't',
      parentId: 'p',
      parameters: [],
      reason: 'missing',
      outcome: 'done' as const,
    };
    // Act
    for (const read of [100, 200, 250]) progress({ kind: 'parameters-read', done: read, total: 250 });
    progress({ kind: 'snapshot-read', families: 3, workspaces: 250 });
    progress({ kind: 'changes-planned', families: 1, actions: 2 });
    progress({ kind: 'action-settled', family, action });
    progress({ kind: 'action-settled', family, action: { ...action, index: 2, childName: 'team-2' } });
    // Assess
    expect(started).toEqual([
      ['reading build parameters', 250],
      ['actions carried out', 2],
    ]);
    expect(ticks).toEqual([100, 100, 50, 1, 1]);
    expect(done).toBe(1);
  });
});

describe('families plan against the simulator', () => {
  let sim: CoderSimulator;
  let dynamo: LocalDynamo;

  beforeAll(async () => {
    sim = await startCoderSimulator({ buildDurationMs: 20, rateLimit: false });
    sim.seed.user({ username: 'alice' });
    sim.seed.template({
      name: TEMPLATE,
      parameters: [{ name: 'additional_workspaces', type: 'number', defaultValue: '0' }],
    });
    for (const name of ['team-a', 'team-b', 'team-c']) {
      sim.seed.workspace({
        owner: 'alice',
        name,
        template: TEMPLATE,
        parameters: { additional_workspaces: '2' },
      });
    }
    dynamo = await startLocalDynamo();
    await dynamo.createTable({ tableName: LEDGER, partitionKey: 'pk', sortKey: 'sk' });
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  }, 60_000);

  afterAll(async () => {
    vi.unstubAllEnvs();
    await sim?.close();
    await dynamo?.close();
  });

  const plan = async (url: string, extra: string[] = []) => {
    const { io, out } = capture({ CODER_SESSION_TOKEN: sim.adminToken });
    const code = await runCli(
      ['families', 'plan', '--coder-url', url, '--template', TEMPLATE, '--json', ...extra],
      io,
    );
    return { code, out, doc: code === 0 ? JSON.parse(out.stdout) : undefined };
  };

  it('accepts a --coder-url that ends in /api/v2 (as copied from the API docs)', async () => {
    const result = await plan(`${sim.url}/api/v2/`);
    expect(result.code, result.out.stderr).toBe(0);
    expect(result.doc.coderUrl).toBe(sim.url);
    expect(result.doc.report.families).toBe(3);
  });

  it('--json prints one JSON document on stdout and nothing else', async () => {
    const result = await plan(sim.url);
    expect(() => JSON.parse(result.out.stdout)).not.toThrow();
  });

  it('with --ledger-table, a second plan reads build parameters from the stored cache, not from Coder', async () => {
    // Act: two plans, each a fresh engine (as two CLI runs are), sharing the deployed table.
    const first = await plan(sim.url, ['--ledger-table', LEDGER]);
    const second = await plan(sim.url, ['--ledger-table', LEDGER]);
    // Assess: the same plan, three fewer Coder requests (one build's parameters per family).
    expect(first.code, first.out.stderr).toBe(0);
    expect(second.doc.report.actions).toEqual(first.doc.report.actions);
    expect(first.doc.report.coder.requests - second.doc.report.coder.requests).toBe(3);
  });
});

describe('scale savings: the families catch-up line', () => {
  const report = planWeekSavings({
    config: seedConfig(),
    weekOf: new Date('2026-12-09T12:00:00Z'),
    demand: peakAndOffHoursDemand('peak', SEED_004_DEMAND.peakRunning, SEED_004_DEMAND.offHoursRunning),
  });
  const catchUpLines = (text: string) =>
    text.split('\n').filter((line) => line.includes('families catch-up'));

  it('says job-hours of the controller’s own builds, over the window, and the hours at the cap', () => {
    const text = renderSavingsReport({
      ...report,
      familiesCatchUp: {
        service: 'families-reconcile',
        kind: 'measured',
        jobHours: 42.5,
        hoursWithRuns: 9,
        pacedRuns: 1,
        hoursAtCap: 6,
      },
    });

    expect(catchUpLines(text)).toEqual([
      "- Provisioner job-hours on the families catch-up, over the week: 42.5 (the controller's own builds in flight, pending included, hourly mean over its 1 paced run in 9 h; job-hours, not node-hours); at its cap 6 h.",
    ]);
  });

  it('says no metrics rather than 0 when the window has none', () => {
    const text = renderSavingsReport({
      ...report,
      familiesCatchUp: { service: 'families-reconcile', kind: 'no-metrics' },
    });

    expect(catchUpLines(text)).toEqual([
      expect.stringContaining(
        ': no families pacing metrics in the window (FamilyProvisionerJobsActive, service families-reconcile)',
      ),
    ]);
  });

  it('a simulated report has no such line', () => {
    expect(catchUpLines(renderSavingsReport(report))).toEqual([]);
  });
});
