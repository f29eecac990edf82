import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  AWSCURRENT,
  AWSPENDING,
  type SecretDescription,
  type SecretVersionSelector,
  type SecretVersionStore,
} from '../../core/keys/ports.js';

/** Secret versions and staging labels in AWS Secrets Manager, for the rotation and the key-health check. */
export class SecretsManagerVersionStore implements SecretVersionStore {
  constructor(private readonly client: Pick<SecretsManagerClient, 'send'>) {}

  async describe(secretId: string): Promise<SecretDescription> {
    const out = await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    return {
      arn: out.ARN ?? secretId,
      name: out.Name ?? secretId,
      rotationEnabled: out.RotationEnabled === true,
      versionStages: out.VersionIdsToStages ?? {},
    };
  }

  async getValue(secretId: string, selector: SecretVersionSelector): Promise<string | undefined> {
    try {
      const out = await this.client.send(
        new GetSecretValueCommand({
          SecretId: secretId,
          ...('versionId' in selector ? { VersionId: selector.versionId } : {}),
          ...(selector.stage !== undefined ? { VersionStage: selector.stage } : {}),
        }),
      );
      return out.SecretString;
    } catch (error) {
      // Also what Secrets Manager answers for a rotation's version that has no value yet.
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async putPending(secretId: string, clientRequestToken: string, secretString: string): Promise<void> {
    await this.client.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: clientRequestToken,
        SecretString: secretString,
        VersionStages: [AWSPENDING],
      }),
    );
  }

  async promote(secretId: string, toVersionId: string, fromVersionId: string | undefined): Promise<void> {
    await this.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: AWSCURRENT,
        MoveToVersionId: toVersionId,
        ...(fromVersionId !== undefined ? { RemoveFromVersionId: fromVersionId } : {}),
      }),
    );
  }
}
