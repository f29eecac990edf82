/**
 * End-to-end: the bundled CLI (dist/cli/coder-fleet.mjs, built once here with scripts/bundle.ts)
 * runs as a child process against the Coder simulator and a dynalite ledger started by this file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed004ScalingConfig } from '../../config/seed-004.js';
import { bundleCli } from '../../scripts/bundle.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { type LocalDynamo, startLocalDynamo } from '../support/dynalite.js';
import { runCli } from './run-cli.js';

/** Coder's provisioners here: the pacing (half the daemons) lets one run queue every child these tests expect. */
const PROVISIONER_DAEMONS = 10;

const TEMPLATE = 'kubernetes-multi';
const LEDGER = 'family-ledger';
const WRONG_TOKEN = 'wrong-token-3f9a1c77d2b84e0e9f5c';

let workdir: string;
let cli: string;
let sim: CoderSimulator;
let dynamo: LocalDynamo;

/** Runs the built CLI against this file's local DynamoDB. */
const run = (args: readonly string[], env: Record<string, string | undefined> = {}, input = '') =>
  runCli(cli, workdir, args, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, ...env }, input);

const coderEnv = (): Record<string, string> => ({ CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.adminToken });

const live = () => sim.workspacesSnapshot().filter((w) => !w.deleted && w.status !== 'deleted');
const names = () =>
  live()
    .map((w) => `${w.ownerName}/${w.name}`)
    .sort();

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), 'coder-fleet-cli-'));
  // Prepare: the bundle under test, a simulator with one family and a look-alike, a ledger table.
  cli = await bundleCli(path.join(workdir, 'dist'));
  sim = await startCoderSimulator({
    buildDurationMs: 50,
    rateLimit: false,
    builtInProvisioners: PROVISIONER_DAEMONS,
  });
  for (const username of ['alice', 'carol']) sim.seed.user({ username });
  sim.seed.template({
    name: TEMPLATE,
    parameters: [
      { name: 'additional_workspaces', type: 'number', defaultValue: '0' },
      { name: 'cpu', type: 'number', defaultValue: '2' },
    ],
  });
  sim.seed.workspace({
    owner: 'alice',
    name: 'my-team',
    template: TEMPLATE,
    parameters: { additional_workspaces: '3', cpu: '4' },
  });
  // carol's own x-2: named like a child of her x, never created by the controller.
  sim.seed.workspace({
    owner: 'carol',
    name: 'x',
    template: TEMPLATE,
    parameters: { additional_workspaces: '2' },
  });
  sim.seed.workspace({
    owner: 'carol',
    name: 'x-2',
    template: TEMPLATE,
    parameters: { additional_workspaces: '0' },
  });
  dynamo = await startLocalDynamo();
  await dynamo.createTable({ tableName: LEDGER, partitionKey: 'pk', sortKey: 'sk' });
  await writeFile(path.join(workdir, 'seed-004.json'), JSON.stringify({ scaling: seed004ScalingConfig }));
  await writeFile(
    path.join(workdir, 'families.json'),
    JSON.stringify({ families: { templates: [TEMPLATE] } }),
  );
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await dynamo?.close();
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

describe('coder-fleet families', () => {
  it('plan prints the actions with their reasons and changes nothing', async () => {
    const before = names();
    const posts = sim.exchanges().filter((e) => e.method === 'POST').length;

    const result = await run(['families', 'plan', '--template', TEMPLATE], coderEnv());

    expect(result.code).toBe(0);
    for (const child of ['my-team-1', 'my-team-2', 'my-team-3', 'x-1'])
      expect(result.stdout).toContain(child);
    expect(result.stdout).toMatch(/create-child\s+my-team-1\s+planned\s+child 1 of 3 is missing/);
    expect(result.stdout).toMatch(/report-conflict\s+x-2/);
    expect(result.stdout).toContain('cannot plan deletions');
    expect(result.stderr).toContain(`Connecting to Coder at ${sim.url}`);
    expect(names()).toEqual(before);
    expect(sim.exchanges().filter((e) => e.method === 'POST').length).toBe(posts);
  });

  it('plan --json is one parseable document with the engine report', async () => {
    const result = await run(['families', 'plan', '--config', 'families.json', '--json'], coderEnv());

    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.command).toBe('families plan');
    expect(doc.ledger).toEqual({ kind: 'none' });
    expect(doc.report.dryRun).toBe(true);
    expect(doc.report.summary.childrenMissing).toBe(4);
    expect(doc.notices[0]).toContain('ownership comes only from the ledger');
  });

  it('apply without a ledger table is bad usage', async () => {
    const result = await run(['families', 'apply', '--template', TEMPLATE], coderEnv());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('families apply needs the ledger: pass --ledger-table');
  });

  it('apply converges: children exist, the look-alike is untouched, a second plan has nothing to do', async () => {
    const lookAlike = live().find((w) => w.ownerName === 'carol' && w.name === 'x-2');

    const applied = await run(
      ['families', 'apply', '--template', TEMPLATE, '--ledger-table', LEDGER, '--json'],
      coderEnv(),
    );

    expect(applied.code).toBe(0);
    const report = JSON.parse(applied.stdout).report;
    expect(report.summary.created).toBe(4);
    expect(applied.stderr).toContain('done: alice/my-team create-child my-team-1');
    expect(names()).toEqual(
      [
        'alice/my-team',
        'alice/my-team-1',
        'alice/my-team-2',
        'alice/my-team-3',
        'carol/x',
        'carol/x-1',
        'carol/x-2',
      ].sort(),
    );
    const after = live().find((w) => w.ownerName === 'carol' && w.name === 'x-2');
    expect(after?.id).toBe(lookAlike?.id);
    expect(after?.latestBuildNumber).toBe(lookAlike?.latestBuildNumber);
    sim.advanceBuilds();

    const replan = await run(
      ['families', 'plan', '--template', TEMPLATE, '--ledger-table', LEDGER, '--json'],
      coderEnv(),
    );

    expect(replan.code).toBe(0);
    const again = JSON.parse(replan.stdout).report;
    const mutating = again.actions.filter((a: { kind: string }) => a.kind !== 'report-conflict');
    expect(mutating).toEqual([]);
    expect(again.summary.childrenMissing).toBe(0);
    const table = await run(
      ['families', 'plan', '--template', TEMPLATE, '--ledger-table', LEDGER],
      coderEnv(),
    );
    expect(table.stdout).toContain('Nothing to change');
  });

  it('an unknown family exits 1 and says what to check', async () => {
    const result = await run(
      ['families', 'plan', '--template', TEMPLATE, '--family', 'alice/nope'],
      coderEnv(),
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no workspace "nope" owned by "alice"');
    expect(result.stderr).toContain('check --family OWNER/NAME');
  });

  it('a wrong token exits 1 with a clear message and never shows the token', async () => {
    const viaEnv = await run(['families', 'plan', '--template', TEMPLATE], {
      CODER_URL: sim.url,
      CODER_SESSION_TOKEN: WRONG_TOKEN,
    });
    const viaStdin = await run(
      ['families', 'plan', '--coder-url', sim.url, '--token-stdin', '--json'],
      {},
      `${WRONG_TOKEN}\n`,
    );

    for (const result of [viaEnv, viaStdin]) {
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('Coder rejected the token (401)');
      expect(result.stderr).toContain('check CODER_SESSION_TOKEN / --token-stdin');
      expect(result.stdout + result.stderr).not.toContain(WRONG_TOKEN);
    }
  });

  it('takes the token from standard input with --token-stdin, and never from a --token flag', async () => {
    const piped = await run(
      ['families', 'plan', '--coder-url', sim.url, '--template', TEMPLATE, '--token-stdin', '--json'],
      {},
      sim.adminToken,
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout).report.families).toBeGreaterThan(0);

    for (const flag of [['--token', WRONG_TOKEN], [`--token=${WRONG_TOKEN}`]]) {
      const refused = await run(['families', 'plan', '--coder-url', sim.url, ...flag]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        'the Coder token is not taken as a flag (--token shows in ps and the shell history): set CODER_SESSION_TOKEN, or pipe it in with --token-stdin',
      );
      expect(refused.stdout + refused.stderr).not.toContain(WRONG_TOKEN);
    }

    const empty = await run(['keys', 'status', '--coder-url', sim.url, '--token-stdin'], {}, '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--token-stdin read no token from standard input');
  });

  it('an unreachable URL exits 1 and says so once, pointing at --coder-url', async () => {
    const result = await run(['families', 'plan', '--template', TEMPLATE], {
      CODER_URL: 'http://127.0.0.1:9',
      CODER_SESSION_TOKEN: WRONG_TOKEN,
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'error: could not reach Coder at http://127.0.0.1:9 (no connection, 3 attempts): check --coder-url / CODER_URL and the network',
    );
    expect(result.stderr.match(/reach/gi)).toHaveLength(1);
    expect(result.stdout + result.stderr).not.toContain(WRONG_TOKEN);
  });

  it.each([
    ['answers 404 with an HTML page', 404, '404'],
    ['answers every path with the same HTML page', 200, "200, but not with Coder's build information"],
  ])('a server that is not Coder (%s) is said to be not Coder, exit 1', async (_name, status, answer) => {
    const notCoder = createServer((_req, res) => {
      res.statusCode = status;
      res.setHeader('content-type', 'text/html');
      res.end('<html><body><h1>Welcome to nginx!</h1></body></html>');
    });
    await new Promise<void>((resolve) => notCoder.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(notCoder.address() as AddressInfo).port}`;
    try {
      const result = await run(['families', 'plan', '--template', TEMPLATE], {
        CODER_URL: url,
        CODER_SESSION_TOKEN: WRONG_TOKEN,
      });

      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `error: the server at ${url} is not a Coder deployment: GET /api/v2/buildinfo, which every Coder answers, answered ${answer}; check --coder-url / CODER_URL`,
      );
      expect(result.stdout + result.stderr).not.toContain(WRONG_TOKEN);
    } finally {
      await new Promise<void>((resolve) => notCoder.close(() => resolve()));
    }
  });

  it.each([
    ['no-such-template', 'no template "no-such-template" in Coder at'],
    ['kubernetes-mult', 'no template "kubernetes-mult" in Coder at SIM; did you mean "kubernetes-multi"?'],
  ])('--template %s is bad usage (exit 2) naming the templates Coder has', async (template, message) => {
    const result = await run(['families', 'plan', '--template', template], coderEnv());

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message.replace('SIM', sim.url));
    expect(result.stderr).toContain(`(its templates: ${TEMPLATE})`);
    expect(result.stdout).not.toContain('Nothing to do');
  });
});

describe('coder-fleet without AWS credentials', () => {
  const noCredentials = {
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
  };

  it.each([
    ['scale plan', ['scale', 'plan', '--config', 'seed-004.json']],
    ['scale plan --invoke', ['scale', 'plan', '--invoke', '--function-name', 'cfc-scaler']],
    ['scale savings --weeks', ['scale', 'savings', '--weeks', '1']],
    ['families plan --ledger-table', ['families', 'plan', '--template', TEMPLATE, '--ledger-table', LEDGER]],
  ])('%s says it in the same one line, and prints no table', async (_name, args) => {
    const result = await run(args, { ...coderEnv(), ...noCredentials });

    expect(result.code).toBe(1);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([
      'error: no AWS credentials found: configure them (aws configure, AWS_PROFILE or aws sso login) and retry',
    ]);
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain('Could not load credentials');
  });
});

describe('coder-fleet usage errors exit 2 with a message and a usage hint', () => {
  const cases: Array<[string, string[], string]> = [
    ['unknown flag', ['families', 'plan', '--bogus'], 'unknown option --bogus for "families plan"'],
    ['missing value', ['families', 'plan', '--family'], 'option --family needs a value'],
    ['bad family', ['families', 'plan', '--family', 'just-a-name'], '--family must be OWNER/NAME'],
    ['unknown command', ['frobnicate'], 'unknown command "frobnicate"'],
    ['no command', [], 'no command given'],
    ['unknown subcommand', ['families', 'destroy'], 'unknown subcommand "families destroy"'],
    ['no Coder URL', ['keys', 'status'], "keys status needs Coder's URL"],
    ['bad --days', ['schedule', '--days', '0'], '--days must be a whole number from 1 to 62'],
    ['scale without config', ['scale', 'plan'], 'scale plan needs the scaling config'],
    ['apply at a time', ['scale', 'apply', '--at', '2026-03-09T07:00:00-05:00'], '--at only plans locally'],
    ['invoke without name', ['scale', 'plan', '--invoke'], '--invoke needs --function-name'],
    [
      'impossible --week-of',
      ['scale', 'savings', '--week-of', '2026-13-45'],
      '--week-of must be a date that exists, YYYY-MM-DD (e.g. 2026-03-09), got "2026-13-45"',
    ],
    [
      '--week-of that is not a day',
      ['scale', 'savings', '--week-of', '2026-02-30'],
      '--week-of must be a date that exists',
    ],
    [
      'negative --peak-running',
      ['scale', 'savings', '--peak-running', '-5'],
      '--peak-running must be a whole number from 0 to 1,000,000, got "-5"',
    ],
    ['negative --days', ['schedule', '--days', '-3'], '--days must be a whole number from 1 to 62, got "-3"'],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const result = await run(args, { CODER_SESSION_TOKEN: WRONG_TOKEN });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: coder-fleet');
    expect(result.stdout).toBe('');
    expect(result.stderr).not.toContain(WRONG_TOKEN);
    expect(result.stderr).not.toContain('Invalid time value');
    expect(result.stderr).not.toContain('does not take a value');
  });
});

describe('coder-fleet help', () => {
  it.each([
    [['--help']],
    [['families', '--help']],
    [['scale', 'plan', '-h']],
    [['keys', 'status', '--help']],
  ])('%j prints usage on stdout and exits 0', async (args) => {
    const result = await run(args);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: coder-fleet');
  });
});

describe('coder-fleet schedule and keys', () => {
  it('schedule --json lists transitions in local time and UTC, holidays marked', async () => {
    const result = await run(['schedule', '--from', '2026-11-23T00:00:00-05:00', '--days', '5', '--json']);

    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.timeZone).toBe('America/New_York');
    const thanksgiving = doc.transitions.filter((t: { localDate: string }) => t.localDate === '2026-11-26');
    expect(
      thanksgiving.map((t: { holiday: boolean; effectiveProfile: string }) => [
        t.holiday,
        t.effectiveProfile,
      ]),
    ).toEqual([
      [true, 'off-hours'],
      [true, 'off-hours'],
    ]);
    expect(doc.transitions[0]).toMatchObject({
      atUtc: '2026-11-23T12:00:00.000Z',
      at: '07:00',
      effectiveProfile: 'peak',
    });
  });

  it('schedule as a table marks the holiday', async () => {
    const result = await run(['schedule', '--from', '2026-11-23T00:00:00-05:00', '--days', '5']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Thu 2026-11-26\s+07:00 UTC-5\s+2026-11-26 12:00 UTC\s+off-hours\s+HOLIDAY/,
    );
  });

  it('schedule warns when the calendar has no holiday in the next 12 months (a list of dates that ran out)', async () => {
    await writeFile(
      path.join(workdir, 'listed.json'),
      JSON.stringify({
        scaling: {
          ...seed004ScalingConfig,
          schedule: {
            ...seed004ScalingConfig.schedule,
            holidayRules: [],
            holidays: ['2026-05-25', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25', '2027-01-01'],
          },
        },
      }),
    );

    const table = await run(['schedule', '--config', 'listed.json', '--from', '2027-03-01T00:00:00-05:00']);
    const json = await run([
      'schedule',
      '--config',
      'listed.json',
      '--from',
      '2027-03-01T00:00:00-05:00',
      '--json',
    ]);

    expect(table.code).toBe(0);
    const warning =
      'warning: the scaling calendar has no holiday in the 12 months from 2027-03-01, so holidays would run the working-day profiles (the last date in schedule.holidays is 2027-01-01)';
    expect(table.stderr).toContain(warning);
    expect(table.stdout).toContain('NO HOLIDAY in the 12 months from 2027-03-01');
    expect(json.code).toBe(0);
    expect(json.stderr).toContain(warning);
    const doc = JSON.parse(json.stdout);
    expect(doc.holidays).toMatchObject({ from: '2027-03-01', next12Months: 0 });
    expect(doc.warnings).toHaveLength(1);
  });

  it('schedule with the built-in reference calendar names the holidays of 2030 and does not warn', async () => {
    const result = await run(['schedule', '--from', '2030-11-25T00:00:00-05:00', '--days', '5']);

    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('warning:');
    expect(result.stdout).toMatch(
      /Thu 2030-11-28\s+07:00 UTC-5\s+2030-11-28 12:00 UTC\s+off-hours\s+HOLIDAY/,
    );
    expect(result.stdout).toContain('Holidays: Thu 2030-11-28 Thanksgiving Day.');
    expect(result.stdout).toContain(
      'Next holiday: Thu 2030-11-28 Thanksgiving Day (6 in the 12 months from 2030-11-25).',
    );
  });

  it('keys status lists keys, ages and daemons per key', async () => {
    sim.seed.provisionerKey({ name: 'eks-pool-a', tags: { pool: 'a' } });
    sim.seed.provisionerDaemon({ name: 'provisioner-a-0', keyName: 'eks-pool-a' });

    const result = await run(['keys', 'status', '--json'], coderEnv());

    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    const key = doc.figures.keys.find((k: { name: string }) => k.name === 'eks-pool-a');
    expect(key).toMatchObject({ connectedDaemons: ['provisioner-a-0'], managed: false });
    expect(key.ageDays).toBeGreaterThanOrEqual(0);
    expect(doc.daemonsPerKey['eks-pool-a']).toEqual(['provisioner-a-0']);
  });
});

describe('coder-fleet demo', () => {
  it('runs to completion, exit 0, well under a minute, and closes everything', async () => {
    const result = await run(['demo']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('SIMULATED');
    expect(result.stdout).toMatch(/alice\s+my-team-3\s+0\s+running\s+child 3 of alice\/my-team/);
    expect(result.stdout).toMatch(/carol\s+frontend-2\s+0\s+running\s+the user's own/);
    expect(result.stdout).toContain('The second plan had 0 change(s)');
    expect(result.stderr).toContain('Simulator stopped.');
    // Every table and line fits a 120-column terminal (long reasons wrap under their column).
    const widest = Math.max(...result.stdout.split('\n').map((line) => line.length));
    expect(widest).toBeLessThanOrEqual(120);
    expect(result.stdout).toMatch(
      /carol\/frontend\s+report-conflict\s+frontend-2\s+conflict\s+frontend-2 is held by workspace\s*\n\s{40,}\S/,
    );
    expect(result.ms).toBeLessThan(30_000);
    process.stderr.write(`coder-fleet demo (bundled) took ${result.ms} ms\n`);
  });

  it('demo --json is one parseable document', async () => {
    const result = await run(['demo', '--json']);

    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.apply.summary.created).toBe(6);
    expect(doc.scaling.simulated).toBe(true);
    expect(doc.replan.actions.every((a: { kind: string }) => a.kind === 'report-conflict')).toBe(true);
  });
});
