import { describe, expect, it } from 'vitest';
import { type FamilyWorkQueue, InMemoryFamilyQueue } from '../../lambdas/adapters/aws/family-queue.js';
import {
  makeWebhookHandler,
  WEBHOOK_IGNORED_REASONS,
  WEBHOOK_METRICS,
} from '../../lambdas/handlers/families-webhook.js';
import {
  flatBuildAudit,
  IDS,
  OTP_CODE,
  OTP_EMAIL,
  oneTimePasscode,
  slogAuditLine,
  testNotification,
  workspaceCreated,
} from '../core/families/webhook/fixtures.js';
import {
  functionUrlEvent,
  PATH_SECRET,
  recordingLog,
  recordingMetrics,
} from '../core/families/webhook/function-url.js';

const setup = (options: { queue?: FamilyWorkQueue; secrets?: () => Promise<readonly string[]> } = {}) => {
  const queue = new InMemoryFamilyQueue();
  const log = recordingLog();
  const metrics = recordingMetrics();
  const handler = makeWebhookHandler({
    pathSecrets: options.secrets ?? (async () => [PATH_SECRET]),
    queue: options.queue ?? queue,
    log: log.sink,
    metrics: metrics.metrics,
    maxBodyBytes: 4096,
  });
  return { handler, queue, log, metrics };
};

const json = (value: unknown) => JSON.stringify(value);
const parseBody = (result: { body?: string }) => JSON.parse(result.body ?? '{}');

describe('families webhook: notifications', () => {
  it('enqueues one minimal work item for Workspace Created and answers 202', async () => {
    // Prepare
    const { handler, queue, log, metrics } = setup();

    // Act
    const result = await handler(
      functionUrlEvent({ body: json(workspaceCreated()), headers: { 'x-message-id': IDS.message } }),
    );

    // Assess
    expect(result.statusCode).toBe(202);
    expect(parseBody(result)).toEqual({ message: 'Accepted' });
    expect(queue.sent).toEqual([
      {
        groupId: `owner-${IDS.owner}`,
        deduplicationId: `msg-${IDS.message}`,
        body: json({
          v: 1,
          source: 'notification',
          event: 'workspace_created',
          messageId: `msg-${IDS.message}`,
          workspaceId: IDS.workspace,
          workspaceName: 'my-team',
          ownerId: IDS.owner,
          ownerName: 'alice',
        }),
      },
    ]);
    expect(metrics.total(WEBHOOK_METRICS.enqueued)).toBe(1);
    expect(log.lines).toEqual([
      json({
        level: 'info',
        message: 'Notification enqueued',
        kind: 'workspace_created',
        messageId: `msg-${IDS.message}`,
        outcome: 'enqueued',
      }),
    ]);
  });

  it('accepts a base64-encoded body', async () => {
    const { handler, queue } = setup();
    const body = Buffer.from(json(workspaceCreated())).toString('base64');

    const result = await handler(functionUrlEvent({ body, isBase64Encoded: true }));

    expect(result.statusCode).toBe(202);
    expect(queue.depth).toBe(1);
  });

  it('puts a redelivered message on the queue only once', async () => {
    const { handler, queue } = setup();

    await handler(functionUrlEvent({ body: json(workspaceCreated()) }));
    const again = await handler(functionUrlEvent({ body: json(workspaceCreated()) }));

    expect(again.statusCode).toBe(202);
    expect(queue.sent).toHaveLength(2);
    expect(queue.depth).toBe(1);
  });

  it('answers 2xx to a One-Time Passcode notification, enqueues nothing, and keeps the code and email out of logs', async () => {
    const { handler, queue, log, metrics } = setup();

    const result = await handler(functionUrlEvent({ body: json(oneTimePasscode()) }));

    expect(result.statusCode).toBe(200);
    expect(parseBody(result)).toEqual({ message: 'Ignored' });
    expect(queue.sent).toEqual([]);
    expect(metrics.total(WEBHOOK_METRICS.ignored)).toBe(1);
    const logged = log.lines.join('\n');
    expect(logged).not.toContain(OTP_CODE);
    expect(logged).not.toContain(OTP_EMAIL);
    expect(log.lines).toEqual([
      json({
        level: 'info',
        message: 'Notification ignored',
        outcome: 'ignored',
        reason: 'not-a-family-event',
        kind: 'Other Notification',
        messageId: `msg-${IDS.message}`,
      }),
    ]);
    expect(result.body).not.toContain(OTP_CODE);
  });

  it('ignores a test notification with 2xx', async () => {
    const { handler, queue } = setup();

    const result = await handler(functionUrlEvent({ body: json(testNotification()) }));

    expect(result.statusCode).toBe(200);
    expect(queue.depth).toBe(0);
  });
});

describe('families webhook: authentication', () => {
  it.each([
    ['a wrong secret', '/not-the-secret'],
    ['a missing secret', '/'],
    ['the audit route without the secret', '/audit'],
    ['the secret as a later segment', `/x/${PATH_SECRET}`],
    ['a prefix of the secret', `/${PATH_SECRET.slice(0, 16)}`],
  ])('refuses %s with 403 and enqueues nothing', async (_, path) => {
    const { handler, queue, metrics, log } = setup();

    const result = await handler(functionUrlEvent({ path, body: json(workspaceCreated()) }));

    expect(result.statusCode).toBe(403);
    expect(parseBody(result)).toEqual({ message: 'Forbidden' });
    expect(queue.sent).toEqual([]);
    expect(metrics.total(WEBHOOK_METRICS.unauthorized)).toBe(1);
    expect(log.lines.join('\n')).not.toContain(path.length > 1 ? path.slice(1) : 'never');
  });

  it('refuses an unauthenticated oversized body with 403, before looking at it', async () => {
    const { handler } = setup();

    const result = await handler(functionUrlEvent({ path: '/nope', body: 'x'.repeat(10_000) }));

    expect(result.statusCode).toBe(403);
  });

  it('answers 405 to other methods and 404 to unknown routes, for callers who know the secret', async () => {
    const { handler, queue } = setup();

    const get = await handler(functionUrlEvent({ method: 'GET', body: undefined }));
    const other = await handler(functionUrlEvent({ path: `/${PATH_SECRET}/other` }));

    expect(get.statusCode).toBe(405);
    expect(other.statusCode).toBe(404);
    expect(queue.sent).toEqual([]);
  });

  it('answers 500 without detail when the secret cannot be read, so Coder retries', async () => {
    const { handler, queue, log } = setup({
      secrets: async () => {
        throw new Error('AccessDeniedException: arn:aws:secretsmanager:...');
      },
    });

    const result = await handler(functionUrlEvent({ body: json(workspaceCreated()) }));

    expect(result.statusCode).toBe(500);
    expect(parseBody(result)).toEqual({ message: 'Temporarily unavailable' });
    expect(queue.sent).toEqual([]);
    expect(log.lines.join('\n')).not.toContain('arn:aws');
  });
});

describe('families webhook: bad requests', () => {
  it('answers 413 to a body over the limit, by declared length or by actual size', async () => {
    const { handler, queue } = setup();
    const big = json({ ...workspaceCreated(), padding: 'x'.repeat(5000) });

    const declared = await handler(functionUrlEvent({ body: '{}', headers: { 'content-length': '999999' } }));
    const actual = await handler(functionUrlEvent({ body: big, headers: { 'content-length': '10' } }));
    const encoded = await handler(
      functionUrlEvent({
        body: Buffer.from(big).toString('base64'),
        isBase64Encoded: true,
        headers: { 'content-length': '10' },
      }),
    );

    expect([declared.statusCode, actual.statusCode, encoded.statusCode]).toEqual([413, 413, 413]);
    expect(queue.sent).toEqual([]);
  });

  it('acts on a workspace event without targets or data by owner and name (releases before coder/coder#16985)', async () => {
    const { handler, queue } = setup();
    const body = json({
      ...workspaceCreated(),
      payload: { ...workspaceCreated().payload, targets: null, data: null },
    });

    const result = await handler(functionUrlEvent({ body }));

    expect(result.statusCode).toBe(202);
    expect(queue.sent).toHaveLength(1);
    const item = JSON.parse(queue.sent[0]?.body ?? '{}') as Record<string, unknown>;
    expect(item.workspaceId).toBeUndefined();
    expect(item).toMatchObject({
      event: 'workspace_created',
      ownerName: expect.any(String),
      workspaceName: expect.any(String),
    });
  });

  it('answers 400 to a body that is not JSON, without echoing it', async () => {
    const { handler, queue } = setup();

    const result = await handler(functionUrlEvent({ body: '{"_version": "1.1", <script>' }));

    expect(result.statusCode).toBe(400);
    expect(parseBody(result)).toEqual({ message: 'Body is not valid JSON' });
    expect(result.body).not.toContain('script');
    expect(queue.sent).toEqual([]);
  });

  it.each([
    ['an empty body', ''],
    ['an array', '[]'],
    [
      'a payload without a template id',
      json({ _version: '1.1', msg_id: IDS.message, payload: { notification_name: 'x' } }),
    ],
    ['a wrong version', json({ ...workspaceCreated(), _version: '2' })],
  ])('answers 400 to %s', async (_, body) => {
    const { handler, queue } = setup();

    const result = await handler(functionUrlEvent({ body }));

    expect(result.statusCode).toBe(400);
    expect(queue.sent).toEqual([]);
  });

  it('answers 503 when the queue refuses, so Coder retries, and logs no body', async () => {
    const failing: FamilyWorkQueue = {
      enqueue: async () => {
        throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
      },
    };
    const { handler, log, metrics } = setup({ queue: failing });

    const result = await handler(functionUrlEvent({ body: json(workspaceCreated()) }));

    expect(result.statusCode).toBe(503);
    expect(metrics.total(WEBHOOK_METRICS.serverErrors)).toBe(1);
    expect(log.lines.join('\n')).not.toContain('alice@example.com');
  });
});

describe('families webhook: forwarded audit entries', () => {
  it('enqueues one item per workspace from a shipper batch, ignoring other log lines', async () => {
    const { handler, queue } = setup();
    const otherWorkspace = '22222222-3333-4444-8555-666666666666';
    const batch = [
      slogAuditLine(),
      { ts: 'x', level: 'INFO', msg: 'request', fields: {} },
      flatBuildAudit(),
      flatBuildAudit({
        id: 'b1c2d3e4-0000-4000-8000-000000000001',
        additional_fields: json({
          workspace_id: otherWorkspace,
          workspace_owner: 'bob',
          workspace_name: 'solo',
        }),
      }),
    ];

    const result = await handler(functionUrlEvent({ path: `/${PATH_SECRET}/audit`, body: json(batch) }));

    expect(result.statusCode).toBe(202);
    expect(parseBody(result)).toEqual({ message: 'Accepted', accepted: 2, ignored: 1, invalid: 0 });
    expect(queue.sent.map((m) => [m.groupId, JSON.parse(m.body).event])).toEqual([
      ['owner-name-alice', 'workspace_started'],
      ['owner-name-bob', 'workspace_started'],
    ]);
  });

  it('accepts JSON lines', async () => {
    const { handler, queue } = setup();
    const body = `${json(slogAuditLine())}\n${json(flatBuildAudit({ action: 'stop' }))}\n`;

    const result = await handler(functionUrlEvent({ path: `/${PATH_SECRET}/audit`, body }));

    expect(result.statusCode).toBe(202);
    expect(queue.depth).toBe(1);
  });

  it('answers 2xx to a batch with nothing about workspaces', async () => {
    const { handler, queue } = setup();

    const result = await handler(
      functionUrlEvent({
        path: `/${PATH_SECRET}/audit`,
        body: json(slogAuditLine({ ResourceType: 'template' })),
      }),
    );

    expect(result.statusCode).toBe(200);
    expect(queue.sent).toEqual([]);
  });

  it('answers 200 to well-formed entries it cannot place, counting the reason', async () => {
    const { handler, queue, metrics } = setup();

    const result = await handler(
      functionUrlEvent({
        path: `/${PATH_SECRET}/audit`,
        body: json([flatBuildAudit({ additional_fields: '{}' })]),
      }),
    );

    expect(result.statusCode).toBe(200);
    expect(queue.sent).toEqual([]);
    expect(metrics.total(WEBHOOK_IGNORED_REASONS['no-workspace'])).toBe(1);
  });

  it('answers 400 to a scalar', async () => {
    const { handler } = setup();

    expect((await handler(functionUrlEvent({ path: `/${PATH_SECRET}/audit`, body: '42' }))).statusCode).toBe(
      400,
    );
  });
});
