#!/usr/bin/env node
/**
 * The CDK app. `npx cdk synth` needs no AWS account: the stack is environment-agnostic unless
 * CDK_DEFAULT_ACCOUNT/REGION are set. The configuration comes from `-c config=<file.json>`
 * (see config/), or seed 004's example when none is given. cdk-nag's AwsSolutions pack runs at
 * synth and fails it on any finding that is not acknowledged with a reason.
 */
import { readFileSync } from 'node:fs';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { seed004ControllerConfig } from '../config/seed-004.js';
import { ConfigError } from '../lambdas/core/contracts/validation.js';
import { CoderFleetControllerStack } from '../lib/stack.js';

const app = new App();
const configPath: unknown = app.node.tryGetContext('config');
let config: unknown = seed004ControllerConfig;
if (typeof configPath === 'string' && configPath.length > 0) {
  try {
    config = JSON.parse(readFileSync(configPath, 'utf8'));
  } catch (error) {
    console.error(`Could not read the config file ${configPath}: ${(error as Error).message}`);
    process.exit(1);
  }
}

try {
  new CoderFleetControllerStack(app, String(app.node.tryGetContext('stackName') ?? 'CoderFleetController'), {
    config: config as never,
    env:
      process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
        ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
        : undefined,
    description: 'Coder Fleet Controller: node group scaling, provisioner key rotation, workspace families',
  });
} catch (error) {
  // A bad config names every bad field; print that, not a stack trace.
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
