/**
 * What CloudWatch accepts for an alarm's evaluation range. PutMetricAlarm: "An alarm's total
 * current evaluation period can be no longer than seven days, so Period multiplied by
 * EvaluationPeriods can't be more than 604,800 seconds. For alarms with a period of less than one
 * hour (3,600 seconds), the total evaluation period can't be longer than one day (86,400 seconds)."
 * (CloudWatch API reference, PutMetricAlarm `Period`, as published in the AWS SDK docs:
 * https://docs.aws.amazon.com/sdk-for-kotlin/api/latest/cloudwatch/aws.sdk.kotlin.services.cloudwatch.model/-put-metric-alarm-request/period.html).
 * A range beyond it passes `cdk synth` and fails at deploy, so configs are checked against it at synth.
 */

const HOUR_SECONDS = 3_600;

/** The longest Period × EvaluationPeriods CloudWatch accepts for an alarm with this period. */
export const maxEvaluationSeconds = (periodSeconds: number): number =>
  periodSeconds < HOUR_SECONDS ? 86_400 : 604_800;

/**
 * Why CloudWatch would refuse an alarm evaluating `evaluationPeriods` periods of `periodSeconds`,
 * or undefined when it accepts it; phrased to follow a field name.
 */
export const evaluationRangeProblem = (
  periodSeconds: number,
  evaluationPeriods: number,
): string | undefined => {
  const range = periodSeconds * evaluationPeriods;
  const max = maxEvaluationSeconds(periodSeconds);
  if (range <= max) return undefined;
  return (
    `${evaluationPeriods} periods of ${periodSeconds} s evaluate ${range} s, more than the ${max} s CloudWatch accepts ` +
    `for ${periodSeconds < HOUR_SECONDS ? 'periods under one hour (one day)' : 'an alarm (seven days)'}: ` +
    `at most ${Math.floor(max / periodSeconds)} with this period`
  );
};
