/**
 * `coder-fleet scale savings` end-to-end: the bundled CLI simulating seed 004's week, writing the
 * chart, and measuring from a minimal CloudWatch GetMetricData (AWS JSON 1.0) on 127.0.0.1.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../scripts/bundle.js';
import { runCli } from './run-cli.js';

let workdir: string;
let cli: string;
let cloudWatch: Server;
let cloudWatchUrl: string;
const targets: string[] = [];

interface Query {
  Id: string;
  MetricStat: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] }; Stat: string };
}

/**
 * The families reconcile's pacing in the window's first 10 hours: 60 runs an hour about to queue
 * a job, 4.5 of the controller's jobs in flight on average, at its cap in the first 3 hours.
 * Another service has none.
 */
const familiesPacing = (q: Query, hourIndex: number): number | undefined => {
  const service = q.MetricStat.Metric.Dimensions.find((d) => d.Name === 'service')?.Value;
  if (service !== 'families-reconcile' || hourIndex >= 10) return undefined;
  if (q.MetricStat.Metric.MetricName === 'FamilyProvisionerAtCap') return hourIndex < 3 ? 1 : 0;
  return q.MetricStat.Stat === 'SampleCount' ? 60 : 4.5;
};

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), 'coder-fleet-savings-'));
  cli = await bundleCli(path.join(workdir, 'dist'));
  // Every hour: coder-ws held 20 nodes for 300 running workspaces, coder-prov none; families pacing above.
  cloudWatch = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      targets.push(String(req.headers['x-amz-target']));
      const input = JSON.parse(body) as { StartTime: number; EndTime: number; MetricDataQueries: Query[] };
      const hours: number[] = [];
      for (let t = input.StartTime; t < input.EndTime; t += 3600) hours.push(t);
      const value = (q: Query) => {
        const group = q.MetricStat.Metric.Dimensions.find((d) => d.Name === 'NodeGroup')?.Value;
        if (q.MetricStat.Metric.MetricName === 'RunningWorkspaces') return group === 'coder-ws' ? 300 : 0;
        return group === 'coder-ws' ? 20 : 0;
      };
      const result = (q: Query) => {
        if (q.MetricStat.Metric.Dimensions.some((d) => d.Name === 'NodeGroup')) {
          // Published under the scheduler Lambda's service name (its function name), as deployed.
          const service = q.MetricStat.Metric.Dimensions.find((d) => d.Name === 'service')?.Value;
          if (service !== 'scaling-scheduler') return { Timestamps: [], Values: [] };
          return { Timestamps: hours, Values: hours.map(() => value(q)) };
        }
        const points = hours.flatMap((at, i) => {
          const v = familiesPacing(q, i);
          return v === undefined ? [] : [[at, v] as const];
        });
        return { Timestamps: points.map(([at]) => at), Values: points.map(([, v]) => v) };
      };
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end(
        JSON.stringify({
          MetricDataResults: input.MetricDataQueries.map((q) => ({
            Id: q.Id,
            StatusCode: 'Complete',
            ...result(q),
          })),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => cloudWatch.listen(0, '127.0.0.1', resolve));
  cloudWatchUrl = `http://127.0.0.1:${(cloudWatch.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (cloudWatch ? cloudWatch.close(() => resolve()) : resolve()));
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

/** The printed report with its lines joined: the CLI wraps long lines to the terminal's width. */
const unwrapped = (stdout: string) => stdout.replace(/\s+/g, ' ');

/** `coder-fleet scale savings …` with the bundled CLI. */
const savings = (args: readonly string[], env: Record<string, string> = {}) =>
  runCli(cli, workdir, ['scale', 'savings', ...args], env);

describe('coder-fleet scale savings', () => {
  it('simulates seed 004’s March DST week as JSON and writes a valid chart', async () => {
    const result = await savings(['--week-of', '2026-03-04', '--json', '--svg', 'week.svg']);

    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ command: 'scale savings', source: 'simulation', windowHours: 167 });
    expect(
      report.groups.map((g: { group: string; savedNodeHours: number }) => [g.group, g.savedNodeHours]),
    ).toEqual([
      ['coder-ws', 0],
      ['coder-prov', 224],
    ]);
    const svg = await readFile(path.join(workdir, 'week.svg'), 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('data-hours="167"');
  });

  it('prints a table with the split, the demand-blind estimate and dollars', async () => {
    const result = await savings(['--week-of', '2026-12-09', '--off-hours-running', '0']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("No --config: using seed 004's scaling config");
    expect(result.stdout).toMatch(
      /coder-ws\s+m5\.2xlarge\s+\$0\.384\s+11,226\s+12,130\s+904 \(7\.5%\)\s+904\s+0\s+904\s+\$347\.14/,
    );
    expect(result.stdout).toMatch(/TOTAL\s+11,336\s+12,466\s+1,130\s+\$423\.98/);
  });

  it('--weeks 1 measures what the scaler set, from CloudWatch', async () => {
    const result = await savings(['--weeks', '1', '--json'], {
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudWatchUrl,
      AWS_MAX_ATTEMPTS: '1',
    });

    expect(result.code, result.stderr).toBe(0);
    expect(targets).toContain('GraniteServiceVersion20100801.GetMetricData');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ source: 'history', weeks: 1, coveredHours: 168 });
    // coder-ws: 20 nodes for 300 running, above the peak floor: nothing saved. coder-prov: 2 nodes × 168 h.
    expect(
      report.groups.map((g: { group: string; savedNodeHours: number }) => [g.group, g.savedNodeHours]),
    ).toEqual([
      ['coder-ws', 0],
      ['coder-prov', 336],
    ]);
    // 10 hours × 4.5 jobs in flight: job-hours over the whole window.
    expect(report.familiesCatchUp).toEqual({
      service: 'families-reconcile',
      kind: 'measured',
      jobHours: 45,
      hoursWithRuns: 10,
      pacedRuns: 600,
      hoursAtCap: 3,
    });
  });

  it('--weeks says the job-hours the families catch-up took, as job-hours of its own builds', async () => {
    const result = await savings(['--weeks', '2'], {
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudWatchUrl,
      AWS_MAX_ATTEMPTS: '1',
    });

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('(services scaling-scheduler and families-reconcile)');
    expect(unwrapped(result.stdout)).toContain(
      "- Provisioner job-hours on the families catch-up, over the 2 weeks: 45 (the controller's own builds in flight, pending included, hourly mean over its 600 paced runs in 10 h; job-hours, not node-hours); at its cap 3 h.",
    );
  });

  it('--weeks with a families service that published nothing says so instead of 0', async () => {
    const result = await savings(['--weeks', '1', '--families-service', 'families-elsewhere'], {
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudWatchUrl,
      AWS_MAX_ATTEMPTS: '1',
    });

    expect(result.code, result.stderr).toBe(0);
    expect(unwrapped(result.stdout)).toContain(
      '- Provisioner job-hours on the families catch-up: no families pacing metrics in the window (FamilyProvisionerJobsActive, service families-elsewhere)',
    );
    expect(unwrapped(result.stdout)).not.toMatch(/families catch-up[^.]*: 0 /);
  });

  it('a simulated week notes that the catch-up is only measured', async () => {
    const result = await savings(['--week-of', '2026-12-09', '--json']);

    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.familiesCatchUp).toBeUndefined();
    expect(report.notes).toContain(
      'the families catch-up’s provisioner job-hours are only measured (--weeks N)',
    );
  });

  it('rejects simulation flags with --weeks, as a usage error', async () => {
    const result = await savings(['--weeks', '2', '--week-of', '2026-12-09']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--weeks reads what the scaler did');
  });

  it('rejects --families-service without --weeks, as a usage error', async () => {
    const result = await savings(['--families-service', 'families-reconcile']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--families-service names whose pacing metrics --weeks reads');
    expect(result.stdout).toBe('');
  });
});
