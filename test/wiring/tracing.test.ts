import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it, vi } from 'vitest';
import { isTracingOn, LazyTracer } from '../../lambdas/wiring/tracing.js';

describe('LazyTracer', () => {
  it('is on in a Lambda unless POWERTOOLS_TRACE_ENABLED is false, and never outside one', () => {
    expect(isTracingOn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' })).toBe(true);
    expect(
      isTracingOn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'false' }),
    ).toBe(false);
    expect(isTracingOn({})).toBe(false);
  });

  it('off: clients pass through and the middleware loads nothing', async () => {
    // Prepare
    const tracer = new LazyTracer('svc', false);
    const client = { send: async () => 'ok' };
    // Act
    await tracer.middleware().before?.({} as never);
    // Assess
    expect(tracer.captureAWSv3Client(client)).toBe(client);
  });

  it('on: the first invocation loads Powertools Tracer, after which clients are captured', async () => {
    // Prepare
    // Powertools' Tracer itself traces only inside Lambda, which it knows by AWS_EXECUTION_ENV.
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    const tracer = new LazyTracer('svc', true);
    vi.stubEnv('AWS_XRAY_CONTEXT_MISSING', 'IGNORE_ERROR');
    const client = new SQSClient({ region: 'us-east-1' });
    const stack = () => client.middlewareStack.identify().join(' ');
    const request = {
      event: {},
      context: { functionName: 'f' },
      response: undefined,
      error: undefined,
      internal: {},
    };
    // Act
    tracer.captureAWSv3Client(client);
    const before = stack();
    await tracer.middleware().before?.(request as never);
    const captured = tracer.captureAWSv3Client(client);
    await tracer.middleware().after?.(request as never);
    // Assess: Powertools adds its X-Ray middleware to the client's stack and returns the client.
    expect(captured).toBe(client);
    expect(before).not.toMatch(/XRay/i);
    expect(stack()).toMatch(/XRay/i);
    vi.unstubAllEnvs();
  });
});
