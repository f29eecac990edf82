/**
 * The deployable bundles end to end against moto (`moto_server`, an AWS emulator written by
 * others): each bundle runs in a fresh Node 22 process with `AWS_ENDPOINT_URL` pointing every SDK
 * client at moto, and Coder is the project's simulator. Every assertion reads the state back
 * from moto with the SDK (node group sizes, queue messages, ledger rows, secret versions), so a
 * wrong request shape, a missing permission-free field or a protocol mismatch that our own
 * stand-ins and `aws-sdk-client-mock` would accept shows up here.
 *
 * Where moto differs from AWS, the test says so at that step.
 */
import { gzipSync } from 'node:zlib';
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateClusterCommand,
  CreateNodegroupCommand,
  DescribeNodegroupCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seed004ScalingConfig } from '../../config/seed-004.js';
import {
  DynamoOverrideStore,
  OVERRIDE_PARTITION_KEY,
  OVERRIDE_TTL_ATTRIBUTE,
} from '../../lambdas/adapters/aws/scaling-override-store.js';
import { CoderClient } from '../../lambdas/adapters/coder/client.js';
import { CoderProvisionerKeyDirectory } from '../../lambdas/adapters/coder/provisioner-keys.js';
import { NO_DEADLINE } from '../../lambdas/core/contracts/deadline.js';
import type { ReconcileReport } from '../../lambdas/core/families/run.js';
import { AUDIT_LOG_METRICS, AUDIT_LOG_SHAPE_METRICS } from '../../lambdas/core/families/webhook/metrics.js';
import {
  familyDeduplicationId,
  familyMessageGroupId,
  familyWorkItemSchema,
} from '../../lambdas/core/families/webhook/work-item.js';
import { deploymentKeyPrefix } from '../../lambdas/core/keys/key-names.js';
import { KEY_HEALTH_METRICS } from '../../lambdas/core/keys/metrics.js';
import type { KeyHealthReport } from '../../lambdas/core/keys/run-health.js';
import type { RotationStepReport } from '../../lambdas/core/keys/run-rotation.js';
import { parseKeySecret } from '../../lambdas/core/keys/secret.js';
import type { ScalingConfigInput } from '../../lambdas/core/scaling/config.js';
import { SCALING_METRICS } from '../../lambdas/core/scaling/metrics.js';
import type { Sizes } from '../../lambdas/core/scaling/planner.js';
import type { ScalerReport } from '../../lambdas/core/scaling/run.js';
import { ENV, METRICS_NAMESPACE } from '../../lambdas/wiring/names.js';
import { createFamilyTables } from '../../lib/families/tables.js';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { functionUrlEvent, PATH_SECRET } from '../core/families/webhook/function-url.js';
import { distinctRows, ordinaryLines, shippedAuditLines } from '../core/families/webhook/shipped-lines.js';
import { type BuiltBundles, buildBundles, emfDocuments, emfMetricNames } from '../support/bundles.js';
import { MOTO_SERVER, toolAvailable } from '../support/external-tools.js';
import { FAMILY_TEMPLATE, seedFamilyParent, seedFamilyTemplate } from '../support/family-seed.js';
import { type MotoServer, startMotoServer } from '../support/moto.js';

/** A call with no deadline of its own, for the tests' own look at Coder. */
const call = { deadline: NO_DEADLINE };

/** Coder's provisioners here: the pacing (half the daemons) lets one run queue every child these tests expect. */
const PROVISIONER_DAEMONS = 10;

// Without moto_server: one line saying so and every test here skipped; with CI set, a failure.
const motoAvailable = toolAvailable(MOTO_SERVER, 'the bundles against moto (test/bundles/moto.test.ts)');
const describeWithMoto = describe.skipIf(!motoAvailable);

const ACCOUNT = '123456789012';
const CODER_TOKEN_SECRET = 'coder-fleet/coder-token';

let moto: MotoServer;
let bundles: BuiltBundles;
let sim: CoderSimulator;
let aws: {
  eks: EKSClient;
  autoScaling: AutoScalingClient;
  dynamo: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  secrets: SecretsManagerClient;
  cloudWatch: CloudWatchClient;
  sqs: SQSClient;
};

beforeAll(async () => {
  if (!motoAvailable) return;
  [moto, bundles, sim] = await Promise.all([
    startMotoServer(),
    buildBundles(),
    startCoderSimulator({ buildDurationMs: 20, builtInProvisioners: PROVISIONER_DAEMONS }),
  ]);
  const dynamo = new DynamoDBClient(moto.clientConfig);
  aws = {
    eks: new EKSClient(moto.clientConfig),
    autoScaling: new AutoScalingClient(moto.clientConfig),
    dynamo,
    documents: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    secrets: new SecretsManagerClient(moto.clientConfig),
    cloudWatch: new CloudWatchClient(moto.clientConfig),
    sqs: new SQSClient(moto.clientConfig),
  };
  // The controller's Coder token, where the construct keeps it.
  await aws.secrets.send(
    new CreateSecretCommand({
      Name: CODER_TOKEN_SECRET,
      SecretString: JSON.stringify({ token: sim.adminToken }),
    }),
  );
}, 120_000);

afterAll(async () => {
  for (const client of Object.values(aws ?? {})) client.destroy();
  await Promise.all([moto?.close(), sim?.close()]);
});

/** Invokes a bundle with every AWS client pointed at moto and Coder at the simulator. */
const invoke = (name: string, event: unknown, env: Record<string, string>) =>
  bundles.invoke(name, event, {
    ...moto.lambdaEnv,
    [ENV.coderUrl]: sim.url,
    [ENV.coderTokenSecretArn]: CODER_TOKEN_SECRET,
    ...env,
  });

describeWithMoto('scaling-scheduler against moto: EKS, Auto Scaling, DynamoDB', () => {
  // Seed 004's groups, with coder-prov as a self-managed Auto Scaling group so both APIs are used.
  const scalingConfig = {
    ...seed004ScalingConfig,
    nodeGroups: seed004ScalingConfig.nodeGroups.map((group) =>
      group.name === 'coder-prov'
        ? {
            name: group.name,
            kind: 'auto-scaling-group' as const,
            autoScalingGroupName: 'coder-prov',
            role: group.role,
            instanceType: group.instanceType,
            profiles: group.profiles,
          }
        : group,
    ),
  } satisfies ScalingConfigInput;
  const env = {
    [ENV.scalingConfig]: JSON.stringify(scalingConfig),
    [ENV.scalingOverrideTable]: 'scaling-overrides',
  };

  /** The sizes moto holds now, per configured group. */
  const sizesInMoto = async (): Promise<Record<string, Sizes>> => {
    const nodegroup = async (name: string): Promise<Sizes> => {
      const { nodegroup } = await aws.eks.send(
        new DescribeNodegroupCommand({ clusterName: 'coder', nodegroupName: name }),
      );
      const { minSize = -1, desiredSize = -1, maxSize = -1 } = nodegroup?.scalingConfig ?? {};
      return { minSize, desiredSize, maxSize };
    };
    const { AutoScalingGroups } = await aws.autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['coder-prov'] }),
    );
    const prov = AutoScalingGroups?.[0];
    return {
      'coder-ws': await nodegroup('coder-ws'),
      'coder-prov': {
        minSize: prov?.MinSize ?? -1,
        desiredSize: prov?.DesiredCapacity ?? -1,
        maxSize: prov?.MaxSize ?? -1,
      },
      'coder-control': await nodegroup('coder-control'),
    };
  };

  beforeAll(async () => {
    // The cluster as seed 004 runs it off-hours.
    await aws.eks.send(
      new CreateClusterCommand({
        name: 'coder',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/coder-eks`,
        resourcesVpcConfig: { subnetIds: ['subnet-0a1b2c3d'] },
      }),
    );
    for (const [name, scalingConfig] of [
      ['coder-ws', { minSize: 2, desiredSize: 2, maxSize: 30 }],
      ['coder-control', { minSize: 3, desiredSize: 3, maxSize: 3 }],
    ] as const) {
      await aws.eks.send(
        new CreateNodegroupCommand({
          clusterName: 'coder',
          nodegroupName: name,
          nodeRole: `arn:aws:iam::${ACCOUNT}:role/coder-nodes`,
          subnets: ['subnet-0a1b2c3d'],
          scalingConfig,
        }),
      );
    }
    await aws.autoScaling.send(
      new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: 'coder-prov',
        ImageId: 'ami-12c6146b',
        InstanceType: 'c5.2xlarge',
      }),
    );
    await aws.autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'coder-prov',
        LaunchConfigurationName: 'coder-prov',
        MinSize: 0,
        DesiredCapacity: 0,
        MaxSize: 5,
        AvailabilityZones: ['us-east-1a'],
      }),
    );
    // The override table as lib/scaling/construct.ts defines it.
    await aws.dynamo.send(
      new CreateTableCommand({
        TableName: env[ENV.scalingOverrideTable],
        KeySchema: [{ AttributeName: OVERRIDE_PARTITION_KEY, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: OVERRIDE_PARTITION_KEY, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await aws.dynamo.send(
      new UpdateTimeToLiveCommand({
        TableName: env[ENV.scalingOverrideTable],
        TimeToLiveSpecification: { AttributeName: OVERRIDE_TTL_ATTRIBUTE, Enabled: true },
      }),
    );
    // Twenty running workspaces: a running floor of ceil(20 / 15) = 2 nodes on coder-ws.
    sim.seed.template({ name: 'kubernetes' });
    sim.seed.user({ username: 'dana' });
    for (let i = 1; i <= 20; i++) {
      sim.seed.workspace({ owner: 'dana', name: `ws-${i}`, template: 'kubernetes', status: 'running' });
    }
  }, 60_000);

  it('a replayed 07:00 transition as a dry run plans peak and changes nothing in moto', async () => {
    // Prepare
    const before = await sizesInMoto();

    // Act: Monday 9 March 2026, 07:00 in New York (11:00Z, after the DST change).
    const dry = await invoke(
      'scaling-scheduler',
      { trigger: 'transition', profile: 'peak', scheduledTime: '2026-03-09T11:00:00Z', dryRun: true },
      env,
    );

    // Assess
    expect(dry.error).toBeUndefined();
    const report = dry.result as ScalerReport;
    expect(report).toMatchObject({
      dryRun: true,
      at: '2026-03-09T11:00:00.000Z',
      profile: { profile: 'peak' },
    });
    expect(report.groups.find((g) => g.group === 'coder-ws')).toMatchObject({
      action: 'update',
      outcome: 'would-update',
      current: { minSize: 2, desiredSize: 2, maxSize: 30 },
      target: { minSize: 10, maxSize: 200 },
      runningWorkspaces: 20,
      runningFloor: 2,
    });
    expect(await sizesInMoto()).toEqual(before);
    // A dry run publishes no scaling figures, so previewing never moves an alarm.
    expect(emfMetricNames(dry.stdout)).not.toContain(SCALING_METRICS.updates);
  });

  it('the scheduled transition at a peak hour sets what it planned on the node group and the Auto Scaling group', async () => {
    // Prepare: a real run plans for now (level-triggered), so make now a peak hour the way an
    // operator would: an override in the table, written by the store the Lambda reads it with.
    const now = new Date();
    await new DynamoOverrideStore({
      documentClient: aws.documents,
      tableName: env[ENV.scalingOverrideTable],
      clusterName: 'coder',
    }).put(
      {
        profile: 'peak',
        until: new Date(now.getTime() + 2 * 3600_000).toISOString(),
        reason: 'moto end-to-end test: peak now',
        setAt: now.toISOString(),
      },
      undefined,
    );
    const before = await sizesInMoto();

    // Act
    const run = await invoke(
      'scaling-scheduler',
      { trigger: 'transition', profile: 'peak', scheduledTime: now.toISOString() },
      env,
    );

    // Assess: moto holds exactly the targets the run reported, and they are seed 004's peak.
    expect(run.error).toBeUndefined();
    const report = run.result as ScalerReport;
    expect(report).toMatchObject({ dryRun: false, profile: { profile: 'peak' }, updates: 2, failures: [] });
    const after = await sizesInMoto();
    for (const group of report.groups.filter((g) => g.action === 'update')) {
      expect(group.outcome, group.group).toBe('updated');
      expect(after[group.group], group.group).toEqual(group.target);
    }
    expect(after['coder-ws']).toMatchObject({ minSize: 10, maxSize: 200 });
    expect(after['coder-ws']?.desiredSize).toBeGreaterThanOrEqual(10);
    expect(after['coder-prov']).toMatchObject({ minSize: 2, maxSize: 20 });
    // The static group is never described nor changed.
    expect(after['coder-control']).toEqual(before['coder-control']);

    // The figures go out as EMF in the function's stdout (Powertools), not through PutMetricData:
    // moto's CloudWatch has no metric in the namespace.
    const emf = emfDocuments(run.stdout);
    expect(emf.length).toBeGreaterThan(0);
    expect(JSON.stringify(emf.map((doc) => doc._aws))).toContain(`"Namespace":"${METRICS_NAMESPACE}"`);
    expect(emfMetricNames(run.stdout)).toEqual(
      expect.arrayContaining([
        SCALING_METRICS.updates,
        SCALING_METRICS.targetMin,
        SCALING_METRICS.runningWorkspaces,
      ]),
    );
    const { Metrics } = await aws.cloudWatch.send(new ListMetricsCommand({ Namespace: METRICS_NAMESPACE }));
    expect(Metrics ?? []).toEqual([]);

    // Act again: the next drift check finds every group at target.
    // (moto does not keep EKS clientRequestTokens, so it cannot replay an earlier update for the
    // same token; that answer is covered with aws-sdk-client-mock in test/adapters/aws/node-groups.test.ts.)
    const drift = await invoke(
      'scaling-scheduler',
      { trigger: 'drift-check', scheduledTime: now.toISOString() },
      env,
    );
    expect(drift.error).toBeUndefined();
    expect((drift.result as ScalerReport).updates).toBe(0);
    expect(await sizesInMoto()).toEqual(after);
  });
});

describeWithMoto(
  'families-webhook, families-worker and families-reconcile against moto: SQS FIFO, DynamoDB',
  () => {
    const env: Record<string, string> = {
      [ENV.familiesConfig]: JSON.stringify({ templates: [FAMILY_TEMPLATE] }),
      [ENV.familiesLedgerTable]: 'families-ledger',
      [ENV.familiesLockTable]: 'families-locks',
      [ENV.webhookSecretArn]: 'coder-fleet/families-webhook',
    };
    let queueArn = '';

    /** Every item of a table in moto. */
    const scan = async (table: string): Promise<Array<Record<string, unknown>>> =>
      (await aws.documents.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items ?? [];

    const childRows = async (owner: string, parent: string) =>
      (await scan(env[ENV.familiesLedgerTable] ?? ''))
        .filter((item) => item.pk === `owner#${owner}` && String(item.sk).startsWith(`child#${parent}#`))
        .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));

    const liveWorkspaceIds = (owner: string): Map<string, string> =>
      new Map(
        sim
          .workspacesSnapshot()
          .filter((w) => w.ownerName === owner)
          .map((w) => [w.name, w.id]),
      );

    /** A received message as the SQS event source hands it to the worker. */
    const sqsRecord = (message: Message): SQSRecord => ({
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: message.Attributes as unknown as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    });

    beforeAll(async () => {
      // The ledger and lock tables exactly as the construct synthesizes them (lib/families/tables.ts).
      const stack = new Stack(new App(), 'FamilyTables');
      createFamilyTables(stack);
      const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table');
      for (const [logicalId, { Properties }] of Object.entries(tables)) {
        const name = logicalId.startsWith('LedgerTable')
          ? env[ENV.familiesLedgerTable]
          : env[ENV.familiesLockTable];
        await aws.dynamo.send(
          new CreateTableCommand({
            TableName: name,
            KeySchema: Properties.KeySchema,
            AttributeDefinitions: Properties.AttributeDefinitions,
            BillingMode: Properties.BillingMode,
          }),
        );
        await aws.dynamo.send(
          new UpdateTimeToLiveCommand({
            TableName: name,
            TimeToLiveSpecification: Properties.TimeToLiveSpecification,
          }),
        );
      }
      expect(Object.keys(tables)).toHaveLength(2);
      // The work queue as lib/families/ingress.ts defines it: FIFO, deduplicated by message id only.
      const { QueueUrl } = await aws.sqs.send(
        new CreateQueueCommand({
          QueueName: 'families-work.fifo',
          Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', VisibilityTimeout: '60' },
        }),
      );
      env[ENV.familiesQueueUrl] = QueueUrl ?? '';
      const { Attributes } = await aws.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
      );
      queueArn = Attributes?.QueueArn ?? '';
      await aws.secrets.send(
        new CreateSecretCommand({
          Name: env[ENV.webhookSecretArn],
          SecretString: JSON.stringify({ pathSecret: PATH_SECRET }),
        }),
      );
      seedFamilyTemplate(sim);
    }, 60_000);

    it("the webhook puts Coder's notification on the FIFO queue; the worker consumes it and creates the children, recorded in the ledger", async () => {
      // Prepare: alice creates her parent workspace through the API, so Coder notifies about it.
      const alice = sim.seed.user({ username: 'alice' });
      const admin = new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false });
      const template = (await admin.listTemplates()).find((t) => t.name === FAMILY_TEMPLATE);
      if (!template?.organization_id) throw new Error('template not seeded');
      const parent = await new CoderClient({
        baseUrl: sim.url,
        token: alice.token,
        rateLimitPerMinute: false,
      }).createWorkspace(template.organization_id, 'alice', {
        name: 'my-team',
        template_id: template.id,
        rich_parameter_values: [
          { name: 'additional_workspaces', value: '2' },
          { name: 'cpu', value: '4' },
        ],
      });
      sim.advanceBuilds();
      const notification = sim
        .notifications()
        .find(
          (n) =>
            n.payload.notification_name === 'Workspace Created' && n.payload.labels.workspace === 'my-team',
        );
      if (!notification) throw new Error('no Workspace Created notification for my-team');

      // Act: Coder's POST reaches the webhook's Function URL.
      const accepted = await invoke(
        'families-webhook',
        functionUrlEvent({
          body: JSON.stringify(notification),
          headers: { 'x-message-id': notification.msg_id },
        }),
        env,
      );

      // Assess: 202, and moto's queue holds one minimal work item for the parent, grouped by owner.
      expect(accepted.error).toBeUndefined();
      expect((accepted.result as { statusCode: number }).statusCode).toBe(202);
      const { Messages = [] } = await aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: env[ENV.familiesQueueUrl],
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      );
      expect(Messages).toHaveLength(1);
      const message = Messages[0] as Message;
      const item = familyWorkItemSchema.parse(JSON.parse(message.Body ?? ''));
      expect(item).toMatchObject({
        event: 'workspace_created',
        workspaceId: parent.id,
        workspaceName: 'my-team',
      });
      expect(message.Attributes).toMatchObject({
        MessageGroupId: familyMessageGroupId(item),
        MessageDeduplicationId: familyDeduplicationId(item),
      });
      // Never the raw body: no email, no labels.
      expect(message.Body).not.toContain('@');

      // Act: the event source hands the message to the worker, and deletes it when it succeeded.
      const worked = await invoke('families-worker', { Records: [sqsRecord(message)] }, env);
      expect(worked.error).toBeUndefined();
      expect((worked.result as SQSBatchResponse).batchItemFailures).toEqual([]);
      await aws.sqs.send(
        new DeleteMessageCommand({
          QueueUrl: env[ENV.familiesQueueUrl],
          ReceiptHandle: message.ReceiptHandle,
        }),
      );

      // Assess: the children exist in Coder, and moto's ledger confirms each one with its id.
      const ids = liveWorkspaceIds('alice');
      expect([...ids.keys()].sort()).toEqual(['my-team', 'my-team-1', 'my-team-2']);
      const rows = await childRows('alice', 'my-team');
      expect(rows.map((r) => [r.childName, r.state, r.childId, r.parentId])).toEqual([
        ['my-team-1', 'confirmed', ids.get('my-team-1'), parent.id],
        ['my-team-2', 'confirmed', ids.get('my-team-2'), parent.id],
      ]);
      // The family lock was released.
      expect(await scan(env[ENV.familiesLockTable] ?? '')).toEqual([]);
    });

    it("the scheduled reconcile creates the missing child of another family and leaves the worker's family as it is", async () => {
      // Prepare: bob's family, seeded with one child wanted and none created.
      seedFamilyParent(sim, { owner: 'bob', parent: 'squad', children: 1 });
      const aliceRows = await childRows('alice', 'my-team');

      // Act
      const run = await invoke(
        'families-reconcile',
        { trigger: 'schedule', scheduledTime: new Date().toISOString() },
        env,
      );

      // Assess
      expect(run.error).toBeUndefined();
      const report = run.result as ReconcileReport;
      const creates = report.actions.filter((a) => a.kind === 'create-child');
      expect(creates.map((a) => [a.family, a.outcome])).toEqual([
        [{ owner: 'bob', parent: 'squad' }, 'done'],
      ]);
      const bob = liveWorkspaceIds('bob');
      expect([...bob.keys()].sort()).toEqual(['squad', 'squad-1']);
      expect((await childRows('bob', 'squad')).map((r) => [r.childName, r.state, r.childId])).toEqual([
        ['squad-1', 'confirmed', bob.get('squad-1')],
      ]);
      expect(await childRows('alice', 'my-team')).toEqual(aliceRows);
      expect(await scan(env[ENV.familiesLockTable] ?? '')).toEqual([]);
    });

    it("families-logs: a subscription batch with coderd's audit line in every shipper's shape puts one work item each on the FIFO queue", async () => {
      // Prepare: CloudWatch Logs' awslogs event (base64 of gzip), as the subscription delivers it:
      // each shipper's shape of a distinct audit row, and ordinary lines the Lambda must ignore.
      const shipped = shippedAuditLines(distinctRows);
      const lines = [...shipped.map((l) => l.message), ...ordinaryLines().map((l) => l.message)];
      const event = {
        awslogs: {
          data: gzipSync(
            JSON.stringify({
              messageType: 'DATA_MESSAGE',
              owner: ACCOUNT,
              logGroup: '/aws/containerinsights/coder/application',
              logStream: 'ip-10-0-12-34.ec2.internal-application.var.log.containers.coder',
              subscriptionFilters: ['AuditLogSubscription'],
              logEvents: lines.map((message, i) => ({
                id: String(38_000_000_000_000 + i).padEnd(56, '0'),
                timestamp: 1_748_779_200_000 + i,
                message,
              })),
            }),
          ).toString('base64'),
        },
      };

      // Act
      const run = await invoke('families-logs', event, env);

      // Assess: every shape accepted, counted per shape in EMF; one message per audit row in moto.
      expect(run.error).toBeUndefined();
      expect(run.result).toMatchObject({
        events: lines.length,
        received: shipped.length,
        accepted: shipped.length,
        ignored: ordinaryLines().length,
        invalid: 0,
        shapes: { line: 2, merged: 2, 'log-string': 2, 'cri-line': 1 },
      });
      expect(emfMetricNames(run.stdout)).toEqual(
        expect.arrayContaining([AUDIT_LOG_METRICS.received, ...Object.values(AUDIT_LOG_SHAPE_METRICS)]),
      );
      const received: Message[] = [];
      for (let i = 0; i < 5 && received.length < shipped.length; i++) {
        const { Messages = [] } = await aws.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: env[ENV.familiesQueueUrl],
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        received.push(...Messages);
        for (const m of Messages) {
          await aws.sqs.send(
            new DeleteMessageCommand({ QueueUrl: env[ENV.familiesQueueUrl], ReceiptHandle: m.ReceiptHandle }),
          );
        }
      }
      const items = received.map((m) => familyWorkItemSchema.parse(JSON.parse(m.Body ?? '')));
      expect(items.map((item) => item.messageId).sort()).toEqual(
        shipped.map((_, i) => `audit-${String(distinctRows(i).ID)}`).sort(),
      );
      expect(new Set(items.map((item) => item.event))).toEqual(new Set(['workspace_created']));
    });
  },
);

describeWithMoto('keys-rotation and keys-health against moto: Secrets Manager', () => {
  const secretId = 'coder-fleet/provisioner-key';
  const env = {
    [ENV.keysConfig]: JSON.stringify({ organization: 'default', keyTags: { pool: 'coder-prov' } }),
    [ENV.keysSecretArn]: secretId,
  };
  const token = 'd3b07384-d9a0-4c3f-9d6e-5f2c1a7b8e90';
  const staleToken = '0f8e2a61-4c1b-4d2e-8a3f-b7c6d5e4f321';
  // The config sets no prefix: the deployment's own comes from the secret's ARN, known once moto made it.
  let prefix: string;
  let staleKeyName: string;
  let keys: CoderProvisionerKeyDirectory;

  const stagesInMoto = async (): Promise<Record<string, string[]>> =>
    (await aws.secrets.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};

  beforeAll(async () => {
    keys = new CoderProvisionerKeyDirectory(
      new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false }),
    );
    // What the construct writes before the first rotation: the organization and tags, no key yet.
    const { VersionId: bootstrapVersion, ARN: secretArn } = await aws.secrets.send(
      new CreateSecretCommand({
        Name: secretId,
        SecretString: JSON.stringify({ organization: 'default', tags: { pool: 'coder-prov' } }),
      }),
    );
    if (!bootstrapVersion || !secretArn) throw new Error('moto returned no VersionId or ARN');
    prefix = deploymentKeyPrefix(secretArn);
    staleKeyName = `${prefix}-${staleToken}`;
    // A key someone else made and another deployment's key under the old shared prefix (both never
    // touched), and a key of this deployment left by a crashed attempt.
    sim.seed.provisionerKey({ name: 'ci-runners', tags: { pool: 'ci' } });
    sim.seed.provisionerKey({ name: `cfc-rot-${staleToken}`, tags: { pool: 'other-deployment' } });
    sim.seed.provisionerKey({ name: staleKeyName, tags: { pool: 'coder-prov' } });

    // Where moto differs from AWS: RotateSecret is how rotation gets enabled, and AWS's would
    // create version `token` with no value under AWSPENDING, invoke the rotation Lambda's four
    // steps, and move AWSCURRENT only when finishSecret does. moto's RotateSecret without a Lambda
    // it can run promotes the empty version to AWSCURRENT at once and never stages AWSPENDING.
    // So the labels are moved back to where AWS's RotateSecret leaves them (AWSCURRENT on the
    // bootstrap version, AWSPENDING on the empty new one), and the test drives the four steps
    // itself, as Secrets Manager would. A PutSecretValue of our own under AWSPENDING would not do:
    // createSecret would find a value there and, rightly, create no key.
    await aws.secrets.send(
      new RotateSecretCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    expect((await stagesInMoto())[token]).toEqual(['AWSCURRENT']);
    for (const move of [
      { VersionStage: 'AWSCURRENT', MoveToVersionId: bootstrapVersion, RemoveFromVersionId: token },
      { VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: token },
      { VersionStage: 'AWSPENDING', MoveToVersionId: token },
    ]) {
      await aws.secrets.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, ...move }));
    }
    expect(await stagesInMoto()).toEqual({ [bootstrapVersion]: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
  }, 60_000);

  it('the four rotation steps create a key Coder accepts, make it AWSCURRENT and prune stale managed keys', async () => {
    // Act and assess, step by step, as Secrets Manager invokes them.
    const step = async (Step: string): Promise<RotationStepReport> => {
      const out = await invoke('keys-rotation', { Step, SecretId: secretId, ClientRequestToken: token }, env);
      expect(out.error, Step).toBeUndefined();
      expect(out.output, Step).not.toMatch(/"key":"[^"]/);
      return out.result as RotationStepReport;
    };
    const keyName = `${prefix}-${token}`;

    expect(await step('createSecret')).toMatchObject({ outcome: 'pending_created', keyName });
    // moto holds the new key under AWSPENDING; AWSCURRENT is still the bootstrap value.
    const pending = await aws.secrets.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }),
    );
    const pendingValue = parseKeySecret(pending.SecretString ?? '', 'AWSPENDING');
    expect(pendingValue).toMatchObject({ organization: 'default', keyName, tags: { pool: 'coder-prov' } });
    const current = await aws.secrets.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
    );
    expect(JSON.parse(current.SecretString ?? '{}')).not.toHaveProperty('key');

    expect(await step('setSecret')).toMatchObject({ outcome: 'nothing_to_set' });
    expect(await step('testSecret')).toMatchObject({ outcome: 'tested', keyName });
    expect(await step('finishSecret')).toMatchObject({ outcome: 'promoted', keyName });

    // AWSCURRENT in moto now holds the new key, and the simulator accepts it as that key.
    expect((await stagesInMoto())[token]).toContain('AWSCURRENT');
    const promoted = await aws.secrets.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
    );
    expect(promoted.VersionId).toBe(token);
    const value = parseKeySecret(promoted.SecretString ?? '', 'AWSCURRENT');
    expect(await keys.identifyKey(value.key, call)).toMatchObject({ name: keyName });
    // The crashed attempt's key is gone; the keys this deployment did not create are untouched.
    const names = (await keys.listKeys('default', call)).map((k) => k.name);
    expect(names).toContain(keyName);
    expect(names).toContain('ci-runners');
    expect(names).toContain(`cfc-rot-${staleToken}`);
    expect(names).not.toContain(staleKeyName);

    // Secrets Manager retries a step it did not hear back from: nothing changes.
    expect(await step('finishSecret')).toMatchObject({ outcome: 'pruned', keyName });
    expect((await keys.listKeys('default', call)).map((k) => k.name).sort()).toEqual([...names].sort());
  });

  it('keys-health reports the status without publishing, and the daily check publishes its figures', async () => {
    // Act
    const status = await invoke('keys-health', { action: 'status' }, env);
    const check = await invoke(
      'keys-health',
      { action: 'check', scheduledTime: new Date().toISOString() },
      env,
    );

    // Assess: both read the secret from moto and the keys from Coder.
    expect(status.error).toBeUndefined();
    expect(check.error).toBeUndefined();
    for (const report of [status.result, check.result] as KeyHealthReport[]) {
      expect(report).toMatchObject({
        secret: secretId,
        organization: 'default',
        figures: {
          currentKeyAgeDays: 0,
          managedKeyCount: 1,
          currentKeyMissing: false,
          daemonsOnNonCurrentKey: 0,
        },
      });
    }
    expect(emfMetricNames(status.stdout)).not.toContain(KEY_HEALTH_METRICS.currentKeyAgeDays);
    expect(emfMetricNames(check.stdout)).toEqual(
      expect.arrayContaining([
        KEY_HEALTH_METRICS.currentKeyAgeDays,
        KEY_HEALTH_METRICS.managedKeyCount,
        KEY_HEALTH_METRICS.currentKeyMissing,
      ]),
    );
    expect(check.output).not.toMatch(/"key":"[^"]/);
  });
});
