/**
 * `coder-fleet scale` end-to-end: the bundled CLI with local AWS credentials against a minimal EKS
 * and Lambda API on 127.0.0.1 (the SDK's AWS_ENDPOINT_URL_<SERVICE> variables point it there),
 * and the Coder simulator for the running workspaces.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scalerPayload } from '../../cli/scale.js';
import { seed004ScalingConfig } from '../../config/seed-004.js';
import { bundleCli } from '../../scripts/bundle.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { runCli } from './run-cli.js';

let workdir: string;
let cli: string;
let sim: CoderSimulator;
let aws: Server;
let awsUrl: string;
/** Requests the fake AWS received: method, path, body. */
const received: Array<{ method: string; path: string; body: string }> = [];
/** Off-hours sizes of seed 004's groups, as EKS reports them. */
const groups: Record<string, { minSize: number; desiredSize: number; maxSize: number }> = {
  'coder-ws': { minSize: 2, desiredSize: 2, maxSize: 30 },
  'coder-prov': { minSize: 0, desiredSize: 1, maxSize: 5 },
};

/** Runs the built CLI against this file's fake EKS and Lambda API. */
const run = (args: readonly string[], env: Record<string, string> = {}) =>
  runCli(cli, workdir, args, {
    AWS_ENDPOINT_URL_EKS: awsUrl,
    AWS_ENDPOINT_URL_LAMBDA: awsUrl,
    AWS_MAX_ATTEMPTS: '1',
    ...env,
  });

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), 'coder-fleet-scale-'));
  cli = await bundleCli(path.join(workdir, 'dist'));
  sim = await startCoderSimulator({ buildDurationMs: 20, rateLimit: false });
  sim.seed.user({ username: 'alice' });
  sim.seed.template({ name: 'dev' });
  for (let i = 0; i < 40; i++) sim.seed.workspace({ owner: 'alice', name: `ws-${i}`, template: 'dev' });
  aws = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      const url = req.url ?? '';
      received.push({ method: req.method ?? '', path: url, body });
      const nodegroup = /^\/clusters\/coder\/node-groups\/([^/?]+)$/.exec(url)?.[1];
      res.setHeader('content-type', 'application/json');
      if (req.method === 'GET' && nodegroup && groups[nodegroup]) {
        res.end(
          JSON.stringify({
            nodegroup: { nodegroupName: nodegroup, status: 'ACTIVE', scalingConfig: groups[nodegroup] },
          }),
        );
        return;
      }
      if (req.method === 'POST' && url.startsWith('/2015-03-31/functions/cfc-scaler/invocations')) {
        res.end(
          JSON.stringify({
            request: { kind: 'run', trigger: 'ad-hoc', dryRun: true },
            dryRun: true,
            at: '2026-11-23T12:00:00.000Z',
            profile: {
              profile: 'peak',
              source: 'calendar',
              dayKind: 'working-day',
              localTime: '2026-11-23T07:00:00.000-05:00',
              reason: 'working day: peak since 07:00 EST',
            },
            groups: [
              {
                group: 'coder-ws',
                action: 'none',
                outcome: 'unchanged',
                current: { minSize: 10, desiredSize: 10, maxSize: 200 },
                target: { minSize: 10, desiredSize: 10, maxSize: 200 },
                reason: 'at target for peak',
              },
            ],
            updates: 0,
            failures: [],
          }),
        );
        return;
      }
      res.statusCode = 404;
      res.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
      res.end(JSON.stringify({ message: `No node group found for name: ${nodegroup ?? url}.` }));
    });
  });
  await new Promise<void>((resolve) => aws.listen(0, '127.0.0.1', resolve));
  awsUrl = `http://127.0.0.1:${(aws.address() as AddressInfo).port}`;
  await writeFile(path.join(workdir, 'controller.json'), JSON.stringify({ scaling: seed004ScalingConfig }));
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await new Promise<void>((resolve) => (aws ? aws.close(() => resolve()) : resolve()));
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

describe('coder-fleet scale', () => {
  it('plan --at a peak transition plans the scale-up from live sizes and running workspaces, changing nothing', async () => {
    received.length = 0;

    const result = await run(
      ['scale', 'plan', '--config', 'controller.json', '--at', '2026-11-23T07:00:00-05:00', '--json'],
      { CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.adminToken },
    );

    expect(result.code, result.stderr).toBe(0);
    const { report, mode } = JSON.parse(result.stdout);
    expect(mode).toBe('local');
    expect(report.profile.profile).toBe('peak');
    const ws = report.groups.find((g: { group: string }) => g.group === 'coder-ws');
    expect(ws).toMatchObject({
      action: 'update',
      outcome: 'would-update',
      runningWorkspaces: 40,
      runningFloor: 3,
    });
    expect(ws.target).toEqual({ minSize: 10, desiredSize: 10, maxSize: 200 });
    expect(received.every((r) => r.method === 'GET')).toBe(true);
    expect(received.map((r) => r.path).sort()).toEqual([
      '/clusters/coder/node-groups/coder-prov',
      '/clusters/coder/node-groups/coder-ws',
    ]);
  });

  it('plan as a table, without Coder, warns that running workspaces are unknown', async () => {
    const result = await run([
      'scale',
      'plan',
      '--config',
      'controller.json',
      '--at',
      '2026-11-23T07:00:00-05:00',
    ]);

    expect(result.code).toBe(0);
    expect(result.stderr).toContain('no Coder given');
    expect(result.stdout).toMatch(/coder-ws\s+update\s+2\/2\/30\s+10\/10\/200/);
    expect(result.stdout).toMatch(/coder-control\s+skip/);
  });

  it('a missing node group fails the plan with exit 1 and names it', async () => {
    await writeFile(
      path.join(workdir, 'missing.json'),
      JSON.stringify({
        ...seed004ScalingConfig,
        nodeGroups: [{ ...seed004ScalingConfig.nodeGroups[0], name: 'ghost', nodegroupName: 'ghost' }],
      }),
    );

    const result = await run(['scale', 'plan', '--config', 'missing.json']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('EKS managed node group "ghost" not found in cluster "coder"');
  });

  it('--invoke sends the ad-hoc payload to the deployed scaler and shows its report', async () => {
    received.length = 0;

    const result = await run(['scale', 'plan', '--invoke', '--function-name', 'cfc-scaler']);

    expect(result.code, result.stderr).toBe(0);
    const invoke = received.find((r) => r.method === 'POST');
    expect(JSON.parse(invoke?.body ?? '{}')).toEqual({ dryRun: true });
    expect(result.stdout).toMatch(/coder-ws\s+none\s+10\/10\/200/);
  });

  it('the payload pins a profile with an end and a reason, as the Lambda expects', () => {
    const at = new Date('2026-11-23T12:00:00Z');

    expect(scalerPayload({ apply: false, at })).toEqual({ dryRun: true });
    expect(scalerPayload({ apply: true, profile: 'peak', at, reason: 'launch day' })).toEqual({
      profile: 'peak',
      until: '2026-11-23T13:00:00.000Z',
      reason: 'launch day',
      dryRun: false,
    });
  });
});
