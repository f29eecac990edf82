import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import { DynamoOverrideStore } from '../adapters/aws/scaling-override-store.js';
import {
  activeProfileAt,
  nextTransitions,
  type ProfileDecision,
  type ScalingOverride,
  type TransitionOccurrence,
} from '../core/scaling/calendar.js';
import {
  SCALING_CONFIG_ENV,
  SCALING_OVERRIDE_TABLE_ENV,
  type ScalingConfig,
  scalingConfigSchema,
} from '../core/scaling/config.js';
import { parsePreviewEvent } from '../core/scaling/events.js';
import type { OverrideStore } from '../core/scaling/ports.js';
import { configFromEnvironment, requireEnv } from '../wiring/env.js';
import { createObservability } from '../wiring/observability.js';

/**
 * The schedule preview: the transitions in a date range, local and UTC, holidays marked, and the
 * profile active now (with any override). A separate function from the scaler because the scaler
 * runs with reserved concurrency 1: a preview must neither wait for a scaling run nor hold one
 * up, and it needs no permission on the node groups.
 */

export interface SchedulePreview {
  readonly timeZone: string;
  readonly from: string;
  readonly to: string;
  readonly now: ProfileDecision;
  readonly override?: ScalingOverride;
  readonly transitions: readonly TransitionOccurrence[];
}

export interface SchedulePreviewDeps {
  readonly config: ScalingConfig;
  readonly overrides: Pick<OverrideStore, 'get'>;
  readonly now: () => Date;
}

export const makeHandler =
  (deps: SchedulePreviewDeps) =>
  async (event: unknown): Promise<SchedulePreview> => {
    const request = parsePreviewEvent(event);
    const now = deps.now();
    const from = request.from ? new Date(request.from) : now;
    const to = new Date(from.getTime() + request.days * 86_400_000);
    const override = (await deps.overrides.get(now))?.override;
    return {
      timeZone: deps.config.schedule.timeZone,
      from: from.toISOString(),
      to: to.toISOString(),
      now: activeProfileAt(deps.config.schedule, now, override),
      ...(override ? { override } : {}),
      transitions: nextTransitions(deps.config.schedule, from, to),
    };
  };

const observability = createObservability('scaling-preview');

const createDeps = (): SchedulePreviewDeps => {
  const config = configFromEnvironment(scalingConfigSchema, SCALING_CONFIG_ENV);
  return {
    config,
    overrides: new DynamoOverrideStore({
      documentClient: DynamoDBDocumentClient.from(
        observability.tracer.captureAWSv3Client(new DynamoDBClient({})),
      ),
      tableName: requireEnv(SCALING_OVERRIDE_TABLE_ENV),
      clusterName: config.clusterName,
    }),
    now: () => new Date(),
  };
};

let preview: ReturnType<typeof makeHandler> | undefined;

export const handler = middy<unknown, SchedulePreview>()
  .use(injectLambdaContext(observability.logger))
  .use(captureLambdaHandler(observability.tracer))
  .handler((event) => {
    preview ??= makeHandler(createDeps());
    return preview(event);
  });
