/**
 * Seed 004's configuration, the project's example: what `cdk synth` deploys with no config file, what
 * the demo and the CLI fall back to, and what config/seed-004.json holds for `cdk synth -c config=…`
 * (a test keeps the two identical). Example data lives here, never in core.
 */
import type { ScalingConfigInput } from '../lambdas/core/scaling/config.js';
import type { ControllerConfigInput } from '../lib/config.js';

/** Seed 004's node groups: 3000 workspaces at peak (07:00-18:00 ET), 300 off-hours. */
export const seed004ScalingConfig = {
  clusterName: 'coder',
  nodeGroups: [
    {
      name: 'coder-ws',
      kind: 'eks-managed',
      nodegroupName: 'coder-ws',
      // Seed 004 plans 3000 workspaces on at most 200 m5.2xlarge nodes: 15 per node.
      role: { kind: 'workspaces', workspacesPerNode: 15 },
      instanceType: 'm5.2xlarge',
      profiles: {
        peak: { minSize: 10, maxSize: 200 },
        'off-hours': { minSize: 2, maxSize: 30 },
      },
    },
    {
      name: 'coder-prov',
      kind: 'eks-managed',
      nodegroupName: 'coder-prov',
      role: { kind: 'provisioners' },
      instanceType: 'c5.2xlarge',
      profiles: {
        peak: { minSize: 2, maxSize: 20 },
        'off-hours': { minSize: 0, maxSize: 5 },
      },
    },
    {
      name: 'coder-control',
      kind: 'eks-managed',
      nodegroupName: 'coder-control',
      role: { kind: 'static' },
      instanceType: 'm5.large',
    },
  ],
  schedule: {
    timeZone: 'America/New_York',
    weekdayTransitions: [
      { at: '07:00', profile: 'peak' },
      { at: '18:00', profile: 'off-hours' },
    ],
    nonWorkingDayProfile: 'off-hours',
    // The six US federal holidays the reference deployment's list names (2026-05-25 … 2027-01-01),
    // as rules so they do not run out; a Saturday or Sunday one is observed the Friday before or the
    // Monday after, as the list's 2026-07-03 for 4 July is.
    holidayRules: [
      {
        kind: 'public-holidays',
        calendar: 'us-federal',
        only: [
          'new-years-day',
          'memorial-day',
          'independence-day',
          'labor-day',
          'thanksgiving-day',
          'christmas-day',
        ],
      },
    ],
    preWarmLeadMinutes: 30,
    driftCheckMinutes: 15,
  },
} as const satisfies ScalingConfigInput;

/**
 * Seed 004's deployment: 3000 workspaces at peak (07:00-18:00 America/New_York) and 300
 * off-hours on `coder-ws`, external provisioners on `coder-prov`, a static `coder-control`;
 * provisioner keys rotated within a 90-day policy with the alert 14 days before; and seed 000's
 * workspace families on the `kubernetes-multi` template. `cdk synth` with no config file uses it.
 */
export const seed004ControllerConfig = {
  coder: { url: 'https://coder.example.com' },
  alarms: { emails: ['platform-oncall@example.com'] },
  scaling: seed004ScalingConfig,
  families: {
    templates: ['kubernetes-multi'],
    countParameter: 'additional_workspaces',
    maxChildren: 9,
    removalPolicy: 'delete',
    gracePeriodMs: 10 * 60_000,
  },
  provisionerKeys: {
    organization: 'default',
    keyTags: { pool: 'coder-prov' },
    rotationIntervalDays: 30,
    maxKeyAgeDays: 90,
    alertLeadDays: 14,
  },
} as const satisfies ControllerConfigInput;
