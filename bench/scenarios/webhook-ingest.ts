/**
 * Scenario 4: the families webhook handler in-process, the SQS client mocked with
 * aws-sdk-client-mock (the real SqsFamilyWorkQueue builds the messages). Valid, unauthenticated
 * and malformed requests are interleaved in one loop, so all three see the same machine state.
 */
import { performance } from 'node:perf_hooks';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { SqsFamilyWorkQueue } from '../../lambdas/adapters/aws/family-queue.js';
import { makeWebhookHandler } from '../../lambdas/handlers/families-webhook.js';
import { check, fmt, median, percentile, type Scenario, type ScenarioResult } from '../lib.js';

const PER_KIND = 10_000;
const WARMUP = 500;
const SECRET = 'bench-path-secret-0123456789abcdefghijkl';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/families.fifo';

/** A Function URL event (payload 2.0) like the ones Lambda delivers. */
const event = (rawPath: string, body: string): LambdaFunctionURLEvent => ({
  version: '2.0',
  routeKey: '$default',
  rawPath,
  rawQueryString: '',
  headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
  requestContext: {
    accountId: 'anonymous',
    apiId: 'bench',
    domainName: 'bench.lambda-url.us-east-1.on.aws',
    domainPrefix: 'bench',
    http: {
      method: 'POST',
      path: rawPath,
      protocol: 'HTTP/1.1',
      sourceIp: '203.0.113.10',
      userAgent: 'Go-http-client/1.1',
    },
    requestId: 'bench',
    routeKey: '$default',
    stage: '$default',
    time: '01/Jun/2025:12:00:00 +0000',
    timeEpoch: 1748779200000,
  },
  body,
  isBase64Encoded: false,
});

/** A Coder "Workspace Created" notification (webhook body `_version` 1.1). */
const workspaceCreated = (i: number): string =>
  JSON.stringify({
    _version: '1.1',
    msg_id: `3c9a5e7b-1d2f-4a6c-8e0b-${String(i).padStart(12, '0')}`,
    payload: {
      _version: '1.2',
      notification_name: 'Workspace Created',
      notification_template_id: '281fdf73-c6d6-4cbb-8ff5-888baf8a2fff',
      user_id: '0b1e8f3c-7d2a-4a65-8c3e-5f9d1a2b3c4d',
      user_email: 'alice@example.com',
      user_name: 'Alice',
      user_username: 'alice',
      actions: [{ label: 'View workspace', url: 'https://coder.example.com/@alice/my-team' }],
      labels: { workspace: 'my-team', workspace_owner_username: 'alice' },
      data: {
        workspace: { id: '6f0c2a52-5a6b-4c1e-9d7e-2b1f0e6c9a11', name: 'my-team', owner_name: 'alice' },
      },
      targets: ['6f0c2a52-5a6b-4c1e-9d7e-2b1f0e6c9a11'],
    },
    title: 'Workspace "my-team" created',
    title_markdown: 'Workspace "my-team" created',
    body: 'Your workspace my-team was created.',
    body_markdown: 'Your workspace **my-team** was created.',
  });

const KINDS = ['valid', 'unauthenticated', 'malformed'] as const;
type Kind = (typeof KINDS)[number];

export const webhookIngest: Scenario = {
  id: 'webhook-ingest',
  title: '4. Webhook ingest (handler in-process, SQS mocked)',
  async run(): Promise<ScenarioResult> {
    const sqs = mockClient(SQSClient);
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: 'm0', MessageId: 'x', MD5OfMessageBody: 'x' }], Failed: [] });
    try {
      const statuses: Record<Kind, Record<number, number>> = {
        valid: {},
        unauthenticated: {},
        malformed: {},
      };
      const handler = makeWebhookHandler({
        pathSecrets: async () => [SECRET],
        queue: new SqsFamilyWorkQueue(new SQSClient({ region: 'us-east-1' }), QUEUE_URL),
        // Serialised like a JSON logger would, then dropped, so log cost is in the figures.
        log: {
          debug: (m, e) => void JSON.stringify({ m, ...e }),
          info: (m, e) => void JSON.stringify({ m, ...e }),
          warn: (m, e) => void JSON.stringify({ m, ...e }),
          error: (m, e) => void JSON.stringify({ m, ...e }),
        },
        metrics: { addMetric: () => undefined },
      });
      const valid = workspaceCreated(1);
      const requestFor = (kind: Kind, i: number): LambdaFunctionURLEvent => {
        switch (kind) {
          case 'valid':
            return event(`/${SECRET}`, i % 2 === 0 ? valid : workspaceCreated(i));
          case 'unauthenticated':
            return event(`/guessed-${i % 97}-secret-value-xxxxxxxxxxxxxxxx`, valid);
          case 'malformed':
            return event(`/${SECRET}`, `${valid.slice(0, 200 + (i % 50))}`);
        }
      };
      const samples: Record<Kind, number[]> = { valid: [], unauthenticated: [], malformed: [] };
      for (let i = 0; i < WARMUP + PER_KIND; i++) {
        for (const kind of KINDS) {
          const request = requestFor(kind, i);
          const started = performance.now();
          const result = await handler(request);
          const elapsed = performance.now() - started;
          if (i >= WARMUP) {
            samples[kind].push(elapsed);
            statuses[kind][result.statusCode ?? 0] = (statuses[kind][result.statusCode ?? 0] ?? 0) + 1;
          }
        }
      }
      check(statuses.valid[202] === PER_KIND, `valid requests: ${JSON.stringify(statuses.valid)}`);
      check(
        statuses.unauthenticated[403] === PER_KIND,
        `unauthenticated: ${JSON.stringify(statuses.unauthenticated)}`,
      );
      check(statuses.malformed[400] === PER_KIND, `malformed: ${JSON.stringify(statuses.malformed)}`);
      const enqueued = sqs.commandCalls(SendMessageBatchCommand).length;
      check(enqueued === PER_KIND + WARMUP, `SQS batches sent: ${enqueued}`);

      const summary = Object.fromEntries(
        KINDS.map((kind) => {
          const total = samples[kind].reduce((a, b) => a + b, 0);
          return [
            kind,
            {
              perSecond: (samples[kind].length / total) * 1000,
              p50Ms: median(samples[kind]),
              p99Ms: percentile(samples[kind], 99),
            },
          ];
        }),
      ) as Record<Kind, { perSecond: number; p50Ms: number; p99Ms: number }>;
      const us = (v: number) => `${fmt(v * 1000, 0)} µs`;
      const cell = (k: Kind) =>
        `${fmt(summary[k].perSecond, 0)}/s, p50 ${us(summary[k].p50Ms)}, p99 ${us(summary[k].p99Ms)}`;
      return {
        id: this.id,
        title: this.title,
        baseline: 'valid requests in the same loop',
        rows: [
          {
            figure: `Valid notification → 202, one SQS batch (${fmt(PER_KIND)} requests)`,
            controller: cell('valid'),
            baseline: '—',
            comparison: '1.00× (reference)',
          },
          {
            figure: 'Unauthenticated (wrong secret path) → 403',
            controller: cell('unauthenticated'),
            baseline: `valid: ${fmt(summary.valid.perSecond, 0)}/s`,
            comparison: `${fmt(summary.unauthenticated.perSecond / summary.valid.perSecond, 2)}× the valid rate`,
          },
          {
            figure: 'Malformed body (truncated JSON) → 400',
            controller: cell('malformed'),
            baseline: `valid: ${fmt(summary.valid.perSecond, 0)}/s`,
            comparison: `${fmt(summary.malformed.perSecond / summary.valid.perSecond, 2)}× the valid rate`,
          },
        ],
        data: { perKind: PER_KIND, warmup: WARMUP, summary, statuses, sqsBatches: enqueued },
      };
    } finally {
      sqs.restore();
    }
  },
};
