/**
 * An AWS check the project did not write: cfn-lint (a prerequisite of the full suite; see the README)
 * over every template we synthesize. Warnings we keep are justified in .cfnlintrc.yaml.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { seed004ControllerConfig } from '../../config/seed-004.js';
import { CoderFleetControllerStack } from '../../lib/stack.js';
import { CFN_LINT, toolAvailable } from '../support/external-tools.js';

// Without cfn-lint: one line saying so and the check skipped; with CI set, a failure.
const available = toolAvailable(
  CFN_LINT,
  'cfn-lint on the synthesized templates (test/lib/cfn-lint.test.ts)',
);

const minimalConfig = {
  coder: { url: 'https://coder.example.com' },
  provisionerKeys: { organization: 'default' },
};

describe.skipIf(!available)('cfn-lint on the synthesized templates', () => {
  it('reports no error and no unjustified warning', { timeout: 180_000 }, () => {
    // Prepare: the project's stack with the seed 004 configuration, a minimal one, and one with every option.
    const dir = mkdtempSync(path.join(tmpdir(), 'cfc-cfn-lint-'));
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = [
      new CoderFleetControllerStack(app, 'Seed004', { config: seed004ControllerConfig }),
      new CoderFleetControllerStack(app, 'Minimal', { config: minimalConfig }),
      // The audit-log subscription, its on-failure queue and its silence alarm.
      new CoderFleetControllerStack(app, 'AuditLogs', {
        config: {
          ...seed004ControllerConfig,
          coder: {
            ...seed004ControllerConfig.coder,
            auditLogGroupName: '/aws/containerinsights/coder/application',
          },
          alarms: { ...seed004ControllerConfig.alarms, auditLogSilenceHours: 8 },
        },
      }),
    ];
    const assembly = app.synth();
    const files = stacks.map((stack) => {
      const file = path.join(dir, `${stack.stackName}.template.json`);
      writeFileSync(file, JSON.stringify(assembly.getStackByName(stack.stackName).template));
      return file;
    });

    // Act
    const result = spawnSync('cfn-lint', ['--config-file', path.resolve('.cfnlintrc.yaml'), '--', ...files], {
      encoding: 'utf8',
    });

    // Assess: exit code 0 means no error, warning or informational finding left.
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
