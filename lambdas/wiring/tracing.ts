import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';

/** What the composition roots need from tracing: wrap an AWS SDK client so its calls become subsegments. */
export interface AwsClientTracing {
  captureAWSv3Client<T>(client: T): T;
}

/**
 * Tracing is on in a Lambda unless `POWERTOOLS_TRACE_ENABLED` is `false` (what ControllerFunction
 * sets when a function's tracing is off); never outside Lambda (tests, the CLI, the benchmark).
 */
export const isTracingOn = (env: NodeJS.ProcessEnv = process.env): boolean =>
  env.AWS_EXECUTION_ENV !== undefined && env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false';

/**
 * Powertools' Tracer, loaded on the first invocation and only when tracing is on: the X-Ray SDK
 * it brings (about 120 KiB with its dependencies) is a separate chunk of the bundle that a
 * function without tracing never imports. Until it is loaded, clients pass through unwrapped;
 * the composition roots build their clients inside the first invocation, after `middleware()`'s
 * `before` has run, so a traced function gets every client wrapped.
 */
export class LazyTracer implements AwsClientTracing {
  private tracer: Tracer | undefined;
  private capture: MiddlewareObj | undefined;

  constructor(
    private readonly serviceName: string,
    private readonly enabled: boolean = isTracingOn(),
  ) {}

  captureAWSv3Client<T>(client: T): T {
    return this.tracer ? this.tracer.captureAWSv3Client(client) : client;
  }

  /** Powertools' `captureLambdaHandler`, behind the lazy load. */
  middleware(): MiddlewareObj {
    return {
      before: async (request) => {
        await (await this.load())?.before?.(request);
      },
      after: async (request) => {
        await this.capture?.after?.(request);
      },
      onError: async (request) => {
        await this.capture?.onError?.(request);
      },
    };
  }

  private async load(): Promise<MiddlewareObj | undefined> {
    if (!this.enabled) return undefined;
    if (!this.capture) {
      const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
        import('@aws-lambda-powertools/tracer'),
        import('@aws-lambda-powertools/tracer/middleware'),
      ]);
      this.tracer = new Tracer({ serviceName: this.serviceName });
      this.capture = captureLambdaHandler(this.tracer);
    }
    return this.capture;
  }
}
