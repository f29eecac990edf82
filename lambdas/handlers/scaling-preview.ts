import {
  activeProfileAt,
  type HolidayOutlook,
  holidayOutlook,
  nextTransitions,
  type ProfileDecision,
  type ScalingOverride,
  type TransitionOccurrence,
} from '../core/scaling/calendar.js';
import type { ScalingConfig } from '../core/scaling/config.js';
import { parsePreviewEvent } from '../core/scaling/events.js';
import type { OverrideStore } from '../core/scaling/ports.js';
import { lambdaHandler } from '../wiring/lambda-handler.js';
import { FUNCTION } from '../wiring/names.js';
import { createScalingPreviewDeps } from '../wiring/scaling.js';

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
  /** The holidays of the 12 months from `from`, with a warning when there are none. */
  readonly holidays: HolidayOutlook;
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
      holidays: holidayOutlook(deps.config.schedule, from),
    };
  };

export const handler = lambdaHandler(
  FUNCTION.scalingPreview,
  (observability) => makeHandler(createScalingPreviewDeps(observability)),
  { metrics: false },
);
