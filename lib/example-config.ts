import { seed004ScalingConfig } from '../lambdas/core/scaling/config.js';
import type { ControllerConfigInput } from './config.js';

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
