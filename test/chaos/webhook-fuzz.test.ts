/**
 * The families webhook's deployed entry point (middy, Powertools logger and metrics; Secrets
 * Manager and SQS mocked) under thousands of fuzzed requests: malformed and oversized bodies,
 * lying Content-Length, base64 garbage, and paths that almost carry the secret. The handler-level
 * fuzz tests (test/handlers/families-webhook-fuzz.test.ts) run a few hundred cases on makeHandler
 * with a recording sink; this runs an order of magnitude more through the real logger and the
 * real SQS adapter, and reads everything the process writes.
 *
 * Properties: never a 5xx; nothing sent to SQS unless the path's first segment is a current
 * secret; no request content (a per-case marker planted in bodies and paths), no secret path and
 * no email in anything written to stdout/stderr or in any response body.
 */
import 'aws-sdk-client-mock-vitest/extend';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadWebhookEntryPoint, WEBHOOK_SECRET_ARN } from '../core/families/webhook/entry-point.js';
import { oneTimePasscode, slogAuditLine, workspaceCreated } from '../core/families/webhook/fixtures.js';
import { lambdaContext } from '../support/lambda.js';

const SECRET = 'k7Hq2Vn9Lp4Xw8Rt3Zm6Bc1Fd5Gs0JyA';
const PREVIOUS = 'Pv0Ld5Ec8Rt2Yu7Io4Pa1Sd6Fg3Hj9KlQ';
const EMAIL = 'fuzz.victim@example.com';
const MAX_BODY = 256 * 1024;

const handler = await loadWebhookEntryPoint();

const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);

const context = lambdaContext('families-webhook');

const event = (input: {
  path: string;
  body: string | undefined;
  method: string;
  base64: boolean;
  contentLength: string | undefined;
}): LambdaFunctionURLEvent => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: input.path,
  rawQueryString: '',
  headers: {
    'content-type': 'application/json',
    'user-agent': 'Go-http-client/1.1',
    host: 'abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws',
    ...(input.contentLength === undefined ? {} : { 'content-length': input.contentLength }),
  },
  requestContext: {
    accountId: 'anonymous',
    apiId: 'abcdefghijklmnopqrstuvwxyz123456',
    domainName: 'abcdefghijklmnopqrstuvwxyz123456.lambda-url.us-east-1.on.aws',
    domainPrefix: 'abcdefghijklmnopqrstuvwxyz123456',
    http: {
      method: input.method,
      path: input.path,
      protocol: 'HTTP/1.1',
      sourceIp: '203.0.113.10',
      userAgent: 'Go-http-client/1.1',
    },
    requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    routeKey: '$default',
    stage: '$default',
    time: '01/Jun/2025:12:00:00 +0000',
    timeEpoch: 1748779200000,
  },
  ...(input.body === undefined ? {} : { body: input.body }),
  isBase64Encoded: input.base64,
});

/** A marker per case: it goes into request content and must never come back out. */
const marker = fc.stringMatching(/^[A-Za-z0-9]{10}$/).map((s) => `MK${s}ZZ`);

/** Realistic bodies carrying the marker in content fields, then mutated, truncated, padded or replaced. */
const bodyWith = (mark: string) => {
  const realistic = fc.constantFrom(workspaceCreated(), oneTimePasscode(), slogAuditLine()).map((base) => ({
    ...base,
    title: `${mark} title`,
    body: `${mark} body`,
    payload: { ...(base as { payload?: object }).payload, user_email: EMAIL, note: mark },
  }));
  return fc.oneof(
    realistic.map((b) => JSON.stringify(b)),
    realistic.map((b) => JSON.stringify([b, b])),
    fc.tuple(realistic, fc.nat()).map(([b, cut]) => {
      const text = JSON.stringify(b);
      return text.slice(0, cut % text.length);
    }),
    fc
      .tuple(realistic, fc.dictionary(fc.string(), fc.jsonValue()))
      .map(([b, junk]) => JSON.stringify({ ...b, ...junk })),
    fc
      .tuple(realistic, fc.constantFrom('payload', 'msg_id', '_version', 'payload'), fc.jsonValue())
      .map(([b, field, value]) => JSON.stringify({ ...b, [field]: value })),
    // Oversized: just over the limit, far over, and JSON Lines over the limit.
    fc.integer({ min: 1, max: 3 }).map((k) => JSON.stringify({ pad: `${mark} `.repeat((MAX_BODY * k) / 8) })),
    fc.constant(`${JSON.stringify(slogAuditLine())}\n`.repeat(Math.ceil(MAX_BODY / 300)) + mark),
    fc.string({ maxLength: 200 }).map((s) => `${mark}${s}`),
    fc.uint8Array({ maxLength: 512 }).map((bytes) => `${mark}${Buffer.from(bytes).toString('latin1')}`),
    fc.constant(''),
  );
};

/** Paths without a current secret as the first segment, some of them very close to one. */
const unauthenticatedPath = (mark: string) =>
  fc.oneof(
    fc.constant(`/${mark}`),
    fc.constant(`/${SECRET.slice(0, -1)}/${mark}`),
    fc.constant(`/${SECRET}x`),
    fc.constant(`/${SECRET.toLowerCase()}`),
    fc.constant(`/${encodeURIComponent(`${SECRET}/`)}`),
    fc.constant(`/x/${SECRET}`),
    fc.constant(`/${SECRET} `),
    fc.constant(`/${PREVIOUS.slice(1)}`),
    fc
      .nat({ max: SECRET.length - 1 })
      .map((i) => `/${SECRET.slice(0, i)}${SECRET[i] === 'a' ? 'b' : 'a'}${SECRET.slice(i + 1)}`),
    fc.webPath().map((p) => `${p}/${mark}`),
    fc.constant(''),
    fc.constant('/'),
  );

const authenticatedPath = (mark: string) =>
  fc.oneof(
    fc.constantFrom(
      `/${SECRET}`,
      `/${SECRET}/`,
      `/${SECRET}/audit`,
      `//${SECRET}`,
      `/${PREVIOUS}`,
      `/${PREVIOUS}/audit`,
    ),
    fc.constant(`/${SECRET}/${mark}`),
  );

describe('families webhook entry point under fuzzing (thousands of requests)', () => {
  const output: string[] = [];
  beforeAll(() => {
    secretsManager
      .on(GetSecretValueCommand, { SecretId: WEBHOOK_SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ pathSecret: SECRET, previousPathSecret: PREVIOUS }) });
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const capture = (chunk: string | Uint8Array): boolean => {
      output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });
  afterAll(() => {
    vi.restoreAllMocks();
    secretsManager.restore();
    sqs.restore();
  });

  const requestCase = (auth: 'with' | 'without') =>
    marker.chain((mark) =>
      fc.record({
        mark: fc.constant(mark),
        path: auth === 'with' ? authenticatedPath(mark) : unauthenticatedPath(mark),
        body: fc.option(bodyWith(mark), { nil: undefined, freq: 20 }),
        method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
        base64: fc.boolean(),
        // Absent, honest (set below), or lying either way.
        contentLength: fc.constantFrom(undefined, 'honest', '0', '10', String(MAX_BODY + 1), 'abc', '-1'),
      }),
    );

  const send = async (c: {
    path: string;
    body: string | undefined;
    method: string;
    base64: boolean;
    contentLength: string | undefined;
  }) => {
    const body =
      c.body === undefined ? undefined : c.base64 ? Buffer.from(c.body).toString('base64') : c.body;
    const contentLength =
      c.contentLength === 'honest' ? String(Buffer.byteLength(c.body ?? '')) : c.contentLength;
    return handler(event({ ...c, body, contentLength }), context);
  };

  it('without the secret: 403 every time, nothing sent to SQS, nothing of the request written anywhere', async () => {
    output.length = 0;
    const before = sqs.commandCalls(SendMessageBatchCommand).length;
    await fc.assert(
      fc.asyncProperty(requestCase('without'), async (c) => {
        const result = await send(c);

        expect(result.statusCode).toBe(403);
        expect(result.body ?? '').not.toContain(c.mark);
      }),
      { numRuns: 2000 },
    );
    expect(sqs.commandCalls(SendMessageBatchCommand).length).toBe(before);
    const written = output.join('');
    expect(written).not.toMatch(/MK[A-Za-z0-9]{10}ZZ/);
    expect(written).not.toContain(SECRET);
    expect(written).not.toContain(PREVIOUS);
    expect(written).not.toContain(EMAIL);
    expect(written).toContain('"outcome":"unauthorized"');
  });

  it('with the secret: never a 5xx, and no body content, email or secret in logs or responses', async () => {
    output.length = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(requestCase('with'), async (c) => {
        const result = await send(c);

        const status = result.statusCode ?? 0;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
        expect(result.body ?? '').not.toContain(c.mark);
        expect(result.body ?? '').not.toContain(EMAIL);
      }),
      { numRuns: 3000 },
    );
    const written = output.join('');
    expect(written).not.toMatch(/MK[A-Za-z0-9]{10}ZZ/);
    expect(written).not.toContain(SECRET);
    expect(written).not.toContain(PREVIOUS);
    expect(written).not.toContain(EMAIL);
    // The fuzzer reached every answer the handler has, including the accepting ones.
    for (const status of [202, 400, 404, 405, 413]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    for (const entry of sqs.commandCalls(SendMessageBatchCommand)) {
      const text = JSON.stringify(entry.args[0].input);
      expect(text).not.toMatch(/MK[A-Za-z0-9]{10}ZZ/);
      expect(text).not.toContain(EMAIL);
    }
  });
});
