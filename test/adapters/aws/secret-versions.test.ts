import 'aws-sdk-client-mock-vitest/extend';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { SecretsManagerVersionStore } from '../../../lambdas/adapters/aws/secret-versions.js';
import { SecretsManagerModel } from '../../core/keys/support/secrets-manager-model.js';

describe('SecretsManagerVersionStore', () => {
  let model: SecretsManagerModel;
  let store: SecretsManagerVersionStore;
  let arn: string;

  beforeEach(() => {
    // Prepare
    model = new SecretsManagerModel();
    store = new SecretsManagerVersionStore(model.client);
    arn = model.createSecret('coder/provisioner-key', '{"v":1}', 'v1');
  });

  it('describes the secret: name, rotation flag and the stages of every version', async () => {
    model.startRotation(arn, 'tok-2');

    const description = await store.describe('coder/provisioner-key');

    expect(description).toEqual({
      arn,
      name: 'coder/provisioner-key',
      rotationEnabled: true,
      versionStages: { v1: ['AWSCURRENT'], 'tok-2': ['AWSPENDING'] },
    });
    expect(model.mock).toReceiveCommandWith(DescribeSecretCommand, { SecretId: 'coder/provisioner-key' });
  });

  it('reads a stage, and a version with its stage, and answers undefined for a pending version with no value yet', async () => {
    model.startRotation(arn, 'tok-2');

    expect(await store.getValue(arn, { stage: 'AWSCURRENT' })).toBe('{"v":1}');
    expect(await store.getValue(arn, { versionId: 'tok-2', stage: 'AWSPENDING' })).toBeUndefined();
    expect(model.mock).toReceiveCommandWith(GetSecretValueCommand, {
      SecretId: arn,
      VersionId: 'tok-2',
      VersionStage: 'AWSPENDING',
    });
  });

  it('passes other Secrets Manager failures on', async () => {
    model.mock
      .on(GetSecretValueCommand)
      .rejects(new InternalServiceError({ $metadata: {}, message: 'Secrets Manager is having a bad day' }));

    await expect(store.getValue(arn, { stage: 'AWSCURRENT' })).rejects.toBeInstanceOf(InternalServiceError);
  });

  it('puts a pending value under the rotation token, idempotently', async () => {
    model.startRotation(arn, 'tok-2');

    await store.putPending(arn, 'tok-2', '{"v":2}');
    await store.putPending(arn, 'tok-2', '{"v":2}');

    expect(model.mock).toReceiveCommandWith(PutSecretValueCommand, {
      SecretId: arn,
      ClientRequestToken: 'tok-2',
      SecretString: '{"v":2}',
      VersionStages: ['AWSPENDING'],
    });
    expect(await store.getValue(arn, { versionId: 'tok-2', stage: 'AWSPENDING' })).toBe('{"v":2}');
    await expect(store.putPending(arn, 'tok-2', '{"v":3}')).rejects.toThrow(/existing version/);
  });

  it('moves AWSCURRENT to the new version, and Secrets Manager gives AWSPREVIOUS to the old one', async () => {
    model.startRotation(arn, 'tok-2');
    await store.putPending(arn, 'tok-2', '{"v":2}');

    await store.promote(arn, 'tok-2', 'v1');

    expect(model.mock).toReceiveCommandWith(UpdateSecretVersionStageCommand, {
      SecretId: arn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: 'tok-2',
      RemoveFromVersionId: 'v1',
    });
    expect(model.stages(arn)).toEqual({ v1: ['AWSPREVIOUS'], 'tok-2': ['AWSCURRENT', 'AWSPENDING'] });
    expect(await store.getValue(arn, { stage: 'AWSPREVIOUS' })).toBe('{"v":1}');
  });

  it('is refused when RemoveFromVersionId is not where AWSCURRENT is', async () => {
    model.startRotation(arn, 'tok-2');
    await store.putPending(arn, 'tok-2', '{"v":2}');

    await expect(store.promote(arn, 'tok-2', 'not-current')).rejects.toThrow(/RemoveFromVersionId/);
    expect(model.versionWith(arn, 'AWSCURRENT')).toBe('v1');
  });
});
