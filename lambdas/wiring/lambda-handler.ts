import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Deadline } from '../core/contracts/deadline.js';
import { lambdaDeadline } from './deadline.js';
import type { FunctionName } from './names.js';
import { createObservability, type Observability } from './observability.js';

export interface LambdaHandlerOptions {
  /** Publish EMF metrics for this function. @default true */
  readonly metrics?: boolean;
  /** More middleware, registered after `logMetrics` so it runs before the metrics are flushed. */
  readonly middleware?: (observability: Observability) => readonly MiddlewareObj[];
}

/** One invocation as a handler sees it: Lambda's context and the run's deadline, computed once here. */
export interface LambdaInvocation {
  readonly context: Context;
  /** The invocation's remaining time minus a safety margin; every run and Coder call of it stops at this. */
  readonly deadline: Deadline | undefined;
}

/**
 * The one Powertools/middy chain of every Lambda: logger context, tracing, metrics, then the
 * handler. `build` runs on the first invocation and its result is reused while the container is
 * warm, so importing a handler module needs no environment and a bad environment is reported as
 * that invocation's error, naming the variable.
 */
export const lambdaHandler = <E, R>(
  service: FunctionName,
  build: (observability: Observability) => (event: E, invocation: LambdaInvocation) => Promise<R>,
  options: LambdaHandlerOptions = {},
) => {
  const observability = createObservability(service);
  let chain = middy<E, R>()
    .use(injectLambdaContext(observability.logger))
    .use(observability.tracer.middleware());
  if (options.metrics ?? true) chain = chain.use(logMetrics(observability.metrics));
  for (const middleware of options.middleware?.(observability) ?? []) chain = chain.use(middleware);
  let run: ((event: E, invocation: LambdaInvocation) => Promise<R>) | undefined;
  const handler = chain.handler((event, context) => {
    run ??= build(observability);
    return run(event, { context, deadline: lambdaDeadline(context) });
  });
  return Object.assign(handler, { service });
};
