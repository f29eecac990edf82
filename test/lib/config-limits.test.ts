/**
 * Config rules that only a deployed stack knows (issue 19): alarms CloudWatch would refuse at
 * deploy, and families grace periods shorter than the reconcile schedule. Each fails at synth,
 * naming the field; the engine's own schema stays permissive.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { seed004ControllerConfig, seed004ScalingConfig } from '../../config/seed-004.js';
import { ConfigError } from '../../lambdas/core/contracts/validation.js';
import { familiesConfigSchema } from '../../lambdas/core/families/config.js';
import { evaluationRangeProblem } from '../../lib/alerting/alarm-limits.js';
import { parseControllerConfig } from '../../lib/config.js';
import { WorkspaceFamilies } from '../../lib/families/construct.js';
import { NodeGroupScaling } from '../../lib/scaling/construct.js';

const TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:coder-token-AbCdEf';
const coderIn = (stack: Stack) => ({
  url: 'https://coder.example.com',
  tokenSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'CoderToken', TOKEN_SECRET_ARN),
});
const thrown = (build: () => unknown): ConfigError => {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe("CloudWatch's evaluation range (PutMetricAlarm: Period × EvaluationPeriods)", () => {
  it('is one day for periods under an hour and seven days for longer ones', () => {
    expect(evaluationRangeProblem(900, 96)).toBeUndefined();
    expect(evaluationRangeProblem(900, 97)).toMatch(/87300 s, more than the 86400 s/);
    expect(evaluationRangeProblem(3_600, 168)).toBeUndefined();
    expect(evaluationRangeProblem(86_400, 8)).toMatch(/more than the 604800 s .* at most 7 with this period/);
  });
});

describe('the controller config at synth', () => {
  const withScaling = (driftCheckMinutes: number, belowFloorChecks: number) => ({
    ...seed004ControllerConfig,
    alarms: { ...seed004ControllerConfig.alarms, belowFloorChecks },
    scaling: { ...seed004ScalingConfig, schedule: { ...seed004ScalingConfig.schedule, driftCheckMinutes } },
  });

  it('refuses belowFloorChecks × the drift-check interval beyond what CloudWatch evaluates, naming the field', () => {
    // 96 checks of 30 minutes are 172,800 s: accepted by the schema, refused by CloudWatch at deploy.
    expect(() => parseControllerConfig(withScaling(30, 96))).toThrow(
      /alarms\.belowFloorChecks: 96 periods of 1800 s evaluate 172800 s, more than the 86400 s CloudWatch accepts .*at most 48.*driftCheckMinutes is 30/,
    );
    expect(() => parseControllerConfig(withScaling(1440, 8))).toThrow(/alarms\.belowFloorChecks: .*604800 s/);
    expect(parseControllerConfig(withScaling(15, 96)).alarms.belowFloorChecks).toBe(96);
    expect(parseControllerConfig(withScaling(1440, 7)).alarms.belowFloorChecks).toBe(7);
  });

  it('refuses a families grace period shorter than one reconcile interval, naming the field', () => {
    const withGrace = (gracePeriodMs: number) => ({
      ...seed004ControllerConfig,
      families: { ...seed004ControllerConfig.families, gracePeriodMs },
    });
    expect(() => parseControllerConfig(withGrace(60_000))).toThrow(
      /families\.gracePeriodMs: 60000 ms is shorter than one reconcile interval \(300000 ms/,
    );
    expect(() => parseControllerConfig(withGrace(0))).toThrow(/families\.gracePeriodMs/);
    expect(parseControllerConfig(withGrace(300_000)).families?.gracePeriodMs).toBe(300_000);
  });

  it('leaves the engine free to take any grace period (tests and ad-hoc runs)', () => {
    expect(familiesConfigSchema.parse({ templates: ['dev'], gracePeriodMs: 0 }).gracePeriodMs).toBe(0);
  });
});

describe('the capability constructs on their own', () => {
  it('NodeGroupScaling refuses a below-floor alarm CloudWatch would refuse, naming its prop', () => {
    const stack = new Stack(new App(), 'Scaling');
    const error = thrown(
      () =>
        new NodeGroupScaling(stack, 'Scaling', {
          config: {
            ...seed004ScalingConfig,
            schedule: { ...seed004ScalingConfig.schedule, driftCheckMinutes: 60 },
          },
          coder: coderIn(stack),
          alarms: { belowFloorEvaluationPeriods: 200 },
        }),
    );
    expect(error.problems).toEqual([
      expect.stringMatching(/^alarms\.belowFloorEvaluationPeriods: 200 periods of 3600 s evaluate 720000 s/),
    ]);
  });

  it('WorkspaceFamilies refuses a grace period shorter than its schedule rate, naming the field', () => {
    const stack = new Stack(new App(), 'Families');
    const error = thrown(
      () =>
        new WorkspaceFamilies(stack, 'Families', {
          config: { templates: ['dev'], gracePeriodMs: 10 * 60_000 },
          coder: coderIn(stack),
          scheduleRate: Duration.minutes(15),
        }),
    );
    expect(error.problems).toEqual([
      expect.stringMatching(
        /^config\.gracePeriodMs: 600000 ms is shorter than one reconcile interval \(900000 ms/,
      ),
    ]);
  });
});
