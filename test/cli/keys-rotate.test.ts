import {
  DescribeSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type RotationWait, rotateAndWait } from '../../cli/keys-rotate.js';

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:provisioner-key-AbCdEf';
const sm = mockClient(SecretsManagerClient);

/** A clock the waits advance, so the test never sleeps. */
const fakeWait = (timeoutMs = 60_000): RotationWait & { waited: number[] } => {
  let t = 0;
  const waited: number[] = [];
  return {
    timeoutMs,
    pollMs: 2_000,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
    onWaiting: (elapsed) => waited.push(elapsed),
    waited,
  };
};

const described = (stages: Record<string, string[]>, rotationEnabled = true) => ({
  ARN: SECRET,
  Name: 'provisioner-key',
  RotationEnabled: rotationEnabled,
  VersionIdsToStages: stages,
});

beforeEach(() => sm.reset());

describe('rotateAndWait', () => {
  it('starts the rotation and waits until the new version is AWSCURRENT', async () => {
    // Prepare: the new version is pending twice, then current.
    sm.on(RotateSecretCommand).resolves({ ARN: SECRET, VersionId: 'v2' });
    sm.on(DescribeSecretCommand)
      .resolvesOnce(described({ v1: ['AWSCURRENT'] }))
      .resolvesOnce(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }))
      .resolvesOnce(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }))
      .resolves(described({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] }));
    const wait = fakeWait();
    // Act
    const result = await rotateAndWait(new SecretsManagerClient({}), SECRET, wait);
    // Assess
    expect(result).toMatchObject({ versionId: 'v2', previousVersionId: 'v1', seconds: 4 });
    expect(sm.commandCalls(RotateSecretCommand)[0]?.args[0].input).toMatchObject({ SecretId: SECRET });
    expect(sm.commandCalls(RotateSecretCommand)[0]?.args[0].input.ClientRequestToken).toMatch(
      /^[0-9a-f-]{36}$/,
    );
    expect(wait.waited).toEqual([0, 2_000]);
  });

  it('refuses a secret without rotation, and says where the right one is', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ v1: ['AWSCURRENT'] }, false));
    await expect(rotateAndWait(new SecretsManagerClient({}), SECRET, fakeWait())).rejects.toThrow(
      /rotation is not enabled .*ProvisionerKeySecretArn/,
    );
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it('does not start a second rotation while one is pending', async () => {
    sm.on(DescribeSecretCommand).resolves(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }));
    await expect(rotateAndWait(new SecretsManagerClient({}), SECRET, fakeWait())).rejects.toThrow(
      /already under way .*keys status/,
    );
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
  });

  it('gives up after the wait and points at the Lambda logs and the runbook', async () => {
    sm.on(RotateSecretCommand).resolves({ ARN: SECRET, VersionId: 'v2' });
    sm.on(DescribeSecretCommand)
      .resolvesOnce(described({ v1: ['AWSCURRENT'] }))
      .resolves(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }));
    await expect(rotateAndWait(new SecretsManagerClient({}), SECRET, fakeWait(10_000))).rejects.toThrow(
      /had not finished after 10 s.*keys-rotation Lambda's logs.*RUNBOOK/,
    );
  });
});
