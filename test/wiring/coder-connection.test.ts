import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lambdas/core/contracts/validation.js';
import {
  coderApiMetrics,
  coderConnectionFromEnvironment,
  createCoderClient,
  publishCoderApiMetrics,
} from '../../lambdas/wiring/coder-connection.js';

const TOKEN = 'abcdefghij-0123456789abcdefghijkl';
const secrets = mockClient(SecretsManagerClient);
let server: Server;
let url: string;
const seenHeaders: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seenHeaders.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        id: '8f0b6b0e-9f54-4f4a-8d43-0f4b1d1f2a3c',
        username: 'svc-fleet',
        email: 'svc@example.com',
        created_at: '2026-01-01T00:00:00Z',
        status: 'active',
        login_type: 'none',
        organization_ids: [],
        roles: [],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  secrets.reset();
  clearCaches();
  seenHeaders.length = 0;
});

describe('Coder connection', () => {
  it('reads the token from Secrets Manager and sends it only as Coder-Session-Token', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: TOKEN }) });
    const client = createCoderClient({
      url,
      tokenSecretId: 'arn:aws:secretsmanager:us-east-1:1:secret:coder-token',
    });
    await client.me();
    await client.me();
    expect(seenHeaders[0]?.['coder-session-token']).toBe(TOKEN);
    // Powertools caches the secret: two requests, one Secrets Manager call.
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('names the secret and the bad field, never the value, when the secret is malformed', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ tokn: TOKEN }) });
    const client = createCoderClient({ url, tokenSecretId: 'coder-token' });
    const error = await client.me().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/coder-token/);
    expect(error?.message).toMatch(/token/);
    expect(error?.message).not.toContain(TOKEN);
    expect(seenHeaders).toHaveLength(0);
  });

  it('explains a missing or malformed environment', () => {
    expect(() => coderConnectionFromEnvironment({ CODER_TOKEN_SECRET_ARN: 'x' })).toThrow(
      /CODER_URL is not set/,
    );
    expect(() =>
      coderConnectionFromEnvironment({ CODER_URL: 'not a url', CODER_TOKEN_SECRET_ARN: 'x' }),
    ).toThrow(ConfigError);
    expect(coderConnectionFromEnvironment({ CODER_URL: url, CODER_TOKEN_SECRET_ARN: 'x' })).toEqual({
      url,
      tokenSecretId: 'x',
    });
  });

  it('publishes the per-run difference of the client counters, with the mean latency', () => {
    const added: Array<[string, number]> = [];
    const metrics = {
      addMetric: (name: string, _unit: unknown, value: number) => void added.push([name, value]),
    };
    const base = {
      requests: 10,
      retries: 1,
      rateLimited: 2,
      timeouts: 1,
      networkErrors: 0,
      durationMsTotal: 1000,
      byRoute: {},
    };
    const later = {
      ...base,
      requests: 25,
      rateLimited: 3,
      timeouts: 2,
      networkErrors: 1,
      durationMsTotal: 1600,
    };
    expect(publishCoderApiMetrics(metrics, base, later)).toEqual({
      requests: 15,
      throttled: 1,
      unreachable: 2,
      averageLatencyMs: 40,
    });
    expect(added).toEqual([
      ['CoderApiRequests', 15],
      ['CoderApiThrottled', 1],
      ['CoderApiUnreachable', 2],
      ['CoderApiLatency', 40],
    ]);
    added.length = 0;
    expect(publishCoderApiMetrics(metrics, later, later)).toEqual({
      requests: 0,
      throttled: 0,
      unreachable: 0,
    });
    expect(added.map(([name]) => name)).not.toContain('CoderApiLatency');
  });

  it("publishes each invocation's Coder traffic through the middleware, also when the run throws", async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: TOKEN }) });
    const client = createCoderClient({ url, tokenSecretId: 'coder-token' });
    await client.me(); // traffic before the invocation is not this run's
    const added: Array<[string, number]> = [];
    const metrics = {
      addMetric: (name: string, _unit: unknown, value: number) => void added.push([name, value]),
    };
    const ok = middy<{ calls: number }>()
      .use(coderApiMetrics(metrics))
      .handler(async (event) => {
        for (let i = 0; i < event.calls; i++) await client.me();
      });
    await ok({ calls: 2 }, {} as never);
    expect(added.find(([name]) => name === 'CoderApiRequests')).toEqual(['CoderApiRequests', 2]);
    added.length = 0;
    const failing = middy()
      .use(coderApiMetrics(metrics))
      .handler(async () => {
        await client.me();
        throw new Error('planner failed');
      });
    await expect(failing({}, {} as never)).rejects.toThrow('planner failed');
    expect(added.find(([name]) => name === 'CoderApiRequests')).toEqual(['CoderApiRequests', 1]);
  });
});
