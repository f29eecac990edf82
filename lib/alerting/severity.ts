import { z } from 'zod';

/**
 * Seed 004 routes alerts by severity: Critical answered within 15 minutes (a pager), High within
 * 1 hour, Medium within 4 hours (email or chat). Each severity has its own topic.
 */
export const SEVERITIES = ['critical', 'high', 'medium'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_RESPONSE: Record<Severity, string> = {
  critical: '15 min',
  high: '1 h',
  medium: '4 h',
};

export const severityLabel = (severity: Severity): string =>
  `${severity[0]?.toUpperCase()}${severity.slice(1)}`;

/**
 * Each alarm's severity, by its construct id; the first rule that matches wins. An alarm no rule
 * covers fails synth, so no alarm reaches a person without someone deciding how urgent it is.
 */
const RULES: ReadonlyArray<readonly [RegExp, Severity]> = [
  // People are (or are about to be) without nodes or provisioners.
  [/^(BelowFloorAlarm-.+|CurrentKeyMissingAlarm|NodeGroupScalerHeartbeat)$/, 'critical'],
  // Slow burns: hours or days before anyone is affected.
  [
    /^(AuditLogsSilentAlarm|DaemonsOnOldKeyAlarm|FamiliesDriftingAlarm|FamiliesAtProvisionerCapAlarm|HealthCheckFailedAlarm|ProvisionerKeyHealthHeartbeat|WebhookUnauthorizedAlarm|.+Throttles|.+CoderThrottled)$/,
    'medium',
  ],
  // Something failed or work is waiting: within the hour.
  [
    /^(ScalingFailuresAlarm|KeyAgeAlarm|RotationFailedAlarm|FamiliesFailingAlarm|FamiliesNoProvisionerAlarm|FamilyFailuresAlarm|ReconcileErrorsAlarm|WebhookErrorsAlarm|FamiliesReconcileHeartbeat|WorkQueueAgeAlarm|.*(Dlq|DeadLetter).*|.+NotEmpty|.+Errors|.+CoderUnreachable)$/,
    'high',
  ],
  // Issue 19: a configured template Coder does not have stops a capability for it (nodes kept,
  // families left alone) until someone fixes the name.
  [/^(ScalingTemplatesUnknownAlarm|FamilyTemplatesUnknownAlarm|FamiliesLockLostAlarm)$/, 'high'],
  // A conflict waits for a person (a workspace holds a child's name): hours, not minutes.
  [/^(FamilyConflictsAlarm)$/, 'medium'],
];

export class UnclassifiedAlarmError extends Error {
  override readonly name = 'UnclassifiedAlarmError';
}

/** The severity of the alarm with construct id `alarmId`; throws for an alarm no rule covers. */
export const severityOf = (alarmId: string): Severity => {
  const rule = RULES.find(([pattern]) => pattern.test(alarmId));
  if (!rule) {
    throw new UnclassifiedAlarmError(
      `Alarm ${alarmId} has no severity: add it to the rules in lib/alerting/severity.ts`,
    );
  }
  return rule[1];
};

const subscribersSchema = z.strictObject({
  /** Emails for this severity; replaces `alarms.emails` for it. */
  emails: z.array(z.email()).optional(),
  /** HTTPS endpoints (a pager's or chat's SNS integration URL) for this severity. */
  https: z.array(z.url({ protocol: /^https$/ })).optional(),
});

/** Who hears each severity. Unset severities go to `alarms.emails`. */
export const severitySubscriptionsSchema = z
  .strictObject({
    critical: subscribersSchema.optional(),
    high: subscribersSchema.optional(),
    medium: subscribersSchema.optional(),
  })
  .default({});
export type SeveritySubscriptions = z.output<typeof severitySubscriptionsSchema>;

/** The emails and HTTPS endpoints of one severity: its own, or the default emails. */
export const subscribersOf = (
  severity: Severity,
  subscriptions: SeveritySubscriptions,
  defaultEmails: readonly string[],
): { emails: readonly string[]; https: readonly string[] } => ({
  emails: subscriptions[severity]?.emails ?? defaultEmails,
  https: subscriptions[severity]?.https ?? [],
});
