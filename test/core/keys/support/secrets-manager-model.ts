import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

interface Version {
  value: string | undefined;
  stages: Set<string>;
}

interface Secret {
  arn: string;
  name: string;
  rotationEnabled: boolean;
  versions: Map<string, Version>;
  lastRotatedAt: Date | undefined;
}

const meta = { $metadata: {} };

/**
 * A small in-memory Secrets Manager: versions and staging labels are real state, so a stage moved
 * by one call is what the next call sees. It follows the documented rules the rotation depends on:
 * a label is on at most one version; moving AWSCURRENT gives AWSPREVIOUS to its old holder;
 * RotateSecret creates the token's version labelled AWSPENDING with no value yet, and reading it
 * answers ResourceNotFoundException until createSecret puts one; putting the same token again
 * with another value is refused; a version left without labels is dropped.
 */
export class SecretsManagerModel {
  private readonly secrets = new Map<string, Secret>();
  readonly client = new SecretsManagerClient({ region: 'us-east-1' });
  readonly mock: AwsClientStub<SecretsManagerClient>;

  constructor() {
    this.mock = mockClient(this.client);
    this.mock.on(DescribeSecretCommand).callsFake((input) => this.describe(input.SecretId));
    this.mock.on(GetSecretValueCommand).callsFake((input) => this.getValue(input));
    this.mock.on(PutSecretValueCommand).callsFake((input) => this.put(input));
    this.mock.on(UpdateSecretVersionStageCommand).callsFake((input) => this.updateStage(input));
  }

  createSecret(name: string, value: string, versionId: string): string {
    const arn = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-AbCdEf`;
    this.secrets.set(arn, {
      arn,
      name,
      rotationEnabled: false,
      versions: new Map([[versionId, { value, stages: new Set(['AWSCURRENT']) }]]),
      lastRotatedAt: undefined,
    });
    return arn;
  }

  /** What RotateSecret does before invoking the function: AWSPENDING on a new, empty version. */
  startRotation(secretId: string, token: string): void {
    const secret = this.find(secretId);
    secret.rotationEnabled = true;
    const pendingElsewhere = [...secret.versions].find(
      ([id, v]) => id !== token && v.stages.has('AWSPENDING'),
    );
    if (pendingElsewhere) {
      throw new InvalidRequestException({
        ...meta,
        message: 'A previous rotation isn’t complete. That rotation will be reattempted.',
      });
    }
    if (!secret.versions.has(token)) secret.versions.set(token, { value: undefined, stages: new Set() });
    this.attach(secret, 'AWSPENDING', token);
  }

  /** What Secrets Manager does once finishSecret returned: the rotation is over. */
  completeRotation(secretId: string, token: string): void {
    const secret = this.find(secretId);
    secret.versions.get(token)?.stages.delete('AWSPENDING');
    secret.lastRotatedAt = new Date();
    this.dropUnlabelled(secret);
  }

  setRotationEnabled(secretId: string, enabled: boolean): void {
    this.find(secretId).rotationEnabled = enabled;
  }

  stages(secretId: string): Record<string, string[]> {
    return Object.fromEntries([...this.find(secretId).versions].map(([id, v]) => [id, [...v.stages].sort()]));
  }

  valueAt(secretId: string, stage: string): string | undefined {
    return [...this.find(secretId).versions.values()].find((v) => v.stages.has(stage))?.value;
  }

  valueOfVersion(secretId: string, versionId: string): string | undefined {
    return this.find(secretId).versions.get(versionId)?.value;
  }

  versionWith(secretId: string, stage: string): string | undefined {
    return [...this.find(secretId).versions].find(([, v]) => v.stages.has(stage))?.[0];
  }

  private find(secretId: string | undefined): Secret {
    const secret = [...this.secrets.values()].find((s) => s.arn === secretId || s.name === secretId);
    if (!secret) {
      throw new ResourceNotFoundException({
        ...meta,
        message: "Secrets Manager can't find the specified secret.",
      });
    }
    return secret;
  }

  private attach(secret: Secret, stage: string, versionId: string): void {
    for (const v of secret.versions.values()) v.stages.delete(stage);
    secret.versions.get(versionId)?.stages.add(stage);
  }

  private dropUnlabelled(secret: Secret): void {
    for (const [id, v] of secret.versions) if (v.stages.size === 0) secret.versions.delete(id);
  }

  private describe(secretId: string | undefined) {
    const secret = this.find(secretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      RotationEnabled: secret.rotationEnabled,
      LastRotatedDate: secret.lastRotatedAt,
      VersionIdsToStages: Object.fromEntries([...secret.versions].map(([id, v]) => [id, [...v.stages]])),
    };
  }

  private getValue(input: { SecretId?: string; VersionId?: string; VersionStage?: string }) {
    const secret = this.find(input.SecretId);
    const stage = input.VersionStage ?? (input.VersionId ? undefined : 'AWSCURRENT');
    const entry = [...secret.versions].find(
      ([id, v]) =>
        (input.VersionId === undefined || id === input.VersionId) && (!stage || v.stages.has(stage)),
    );
    if (!entry || entry[1].value === undefined) {
      throw new ResourceNotFoundException({
        ...meta,
        message: "Secrets Manager can't find the specified secret value for staging label or version.",
      });
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: entry[0],
      SecretString: entry[1].value,
      VersionStages: [...entry[1].stages],
    };
  }

  private put(input: {
    SecretId?: string;
    ClientRequestToken?: string;
    SecretString?: string;
    VersionStages?: string[];
  }) {
    const secret = this.find(input.SecretId);
    const versionId = input.ClientRequestToken ?? `v-${secret.versions.size + 1}`;
    const existing = secret.versions.get(versionId);
    if (existing?.value !== undefined && existing.value !== input.SecretString) {
      throw new ResourceExistsException({
        ...meta,
        message: `You can't modify an existing version, you can only create a new version.`,
      });
    }
    if (!existing) secret.versions.set(versionId, { value: input.SecretString, stages: new Set() });
    else existing.value = input.SecretString;
    for (const stage of input.VersionStages ?? ['AWSCURRENT']) {
      if (stage === 'AWSCURRENT') this.moveCurrent(secret, versionId);
      else this.attach(secret, stage, versionId);
    }
    this.dropUnlabelled(secret);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: input.VersionStages };
  }

  private moveCurrent(secret: Secret, to: string): void {
    const from = [...secret.versions].find(([, v]) => v.stages.has('AWSCURRENT'))?.[0];
    if (from === to) return;
    this.attach(secret, 'AWSCURRENT', to);
    if (from !== undefined) this.attach(secret, 'AWSPREVIOUS', from);
  }

  private updateStage(input: {
    SecretId?: string;
    VersionStage?: string;
    MoveToVersionId?: string;
    RemoveFromVersionId?: string;
  }) {
    const secret = this.find(input.SecretId);
    const stage = input.VersionStage ?? '';
    const holder = [...secret.versions].find(([, v]) => v.stages.has(stage))?.[0];
    if (holder !== undefined && holder !== input.MoveToVersionId && holder !== input.RemoveFromVersionId) {
      throw new InvalidParameterException({
        ...meta,
        message: `The staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
      });
    }
    if (input.MoveToVersionId !== undefined && !secret.versions.has(input.MoveToVersionId)) {
      throw new ResourceNotFoundException({ ...meta, message: 'The version to move to does not exist.' });
    }
    if (input.MoveToVersionId === undefined) {
      if (input.RemoveFromVersionId) secret.versions.get(input.RemoveFromVersionId)?.stages.delete(stage);
    } else if (stage === 'AWSCURRENT') {
      this.moveCurrent(secret, input.MoveToVersionId);
    } else {
      this.attach(secret, stage, input.MoveToVersionId);
    }
    this.dropUnlabelled(secret);
    return { ARN: secret.arn, Name: secret.name };
  }
}
