/** Help texts; `coder-fleet <command> --help` prints the command's, `coder-fleet --help` all of them. */

export const CODER = `  --coder-url URL        Coder's access URL (default: $CODER_URL)
  --token-stdin          read the Coder session token from standard input (default: the token is
                         $CODER_SESSION_TOKEN; never a flag: flags show in ps and the shell history)`;

const COMMON = `  --json                 one JSON document on stdout (progress stays on stderr)
  -h, --help             this help`;

export const FAMILIES_USAGE = `Usage: coder-fleet families plan|apply [options]

Reconciles workspace families (a parent whose additional_workspaces is N, and its children
<parent>-1 … <parent>-N) with the controller's engine. plan is a dry run and never changes anything.

${CODER}
  --family OWNER/NAME    only this family (default: every family)
  --config FILE          controller config JSON (its "families" section is used) or that section alone
  --template NAME        a managed template (repeatable; default: the config's, else every template)
  --ledger-table TABLE   the deployed DynamoDB ledger: required for apply; without it plan cannot
                         plan deletions (ownership of children is recorded only in the ledger)
  --lock-table TABLE     the family lock table (default: the ledger table)
  --region REGION        AWS region of the tables (default: the AWS SDK's, e.g. $AWS_REGION)
${COMMON}`;

export const SCALE_USAGE = `Usage: coder-fleet scale plan|apply [options]
       coder-fleet scale savings [options]   (see coder-fleet scale savings --help)

Plans (or applies) the node group sizes for the active profile with the scaler's planner, using local
AWS credentials; plan never changes anything.

  --config FILE          controller config JSON (its "scaling" section is used) or that section alone
  --profile P            pin profile P (an override until --until; apply stores it in --override-table)
  --until TIME           end of the --profile override (ISO 8601; default: one hour from now)
  --reason TEXT          why the override (default: "coder-fleet CLI")
  --at TIME              plan as of TIME (ISO 8601 with a zone; plan only, not with --invoke)
  --override-table T     the deployed override table (reads a stored override; needed to store one)
${CODER}
                         (optional: without Coder the running workspaces are unknown and desired
                         sizes are kept as they are)
  --invoke               call the deployed scaler Lambda instead (needs --function-name)
  --function-name NAME   the scaling-scheduler function name or ARN, with --invoke
  --region REGION        AWS region (default: the AWS SDK's, e.g. $AWS_REGION)
${COMMON}`;

export const SAVINGS_USAGE = `Usage: coder-fleet scale savings [options]

What the schedule saves: each group's node-hours and dollars in a week under the schedule, against
the peak profile held all week with the same demand (Cluster Autoscaler without the schedule). A
simulated week by default; --weeks N measures the last N weeks from the scaler's CloudWatch metrics,
and the provisioner job-hours the families controller's catch-up took (its own builds, not nodes).

  --config FILE          controller config JSON or its "scaling" section (default: seed 004's)
  --week-of DATE         simulate the local week (Monday to Monday) containing DATE (YYYY-MM-DD;
                         default: this week)
  --peak-running N       running workspaces while the calendar is on peak (default: 3000, seed 004)
  --off-hours-running N  running workspaces otherwise (default: 300, seed 004)
  --weeks N              measure the last N weeks (at most 26) from CloudWatch instead (local AWS
                         credentials, cloudwatch:GetMetricData)
  --service NAME         the scaler's metrics service dimension (default: scaling-scheduler)
  --families-service NAME
                         the families reconcile's metrics service dimension, for the catch-up's
                         job-hours with --weeks (default: families-reconcile)
  --region REGION        AWS region of the metrics (default: the AWS SDK's, e.g. $AWS_REGION)
  --svg FILE             also write a chart of the week (the last one with --weeks) as SVG
${COMMON}`;

export const SCHEDULE_USAGE = `Usage: coder-fleet schedule [options]

The scaling calendar's next transitions, in the schedule's zone and UTC, holidays marked and named;
a warning when the calendar has no holiday in the 12 months from --from (a list of dates that ran out).

  --config FILE          controller config JSON or its "scaling" section (default: seed 004's schedule)
  --days N               how many days ahead (default: 7, at most 62)
  --from TIME            start of the preview (ISO 8601 with a zone; default: now)
${COMMON}`;

export const KEYS_USAGE = `Usage: coder-fleet keys status [options]
       coder-fleet keys rotate --secret-id ID [options] (coder-fleet keys rotate --help)

Provisioner keys, their ages and the daemons connected with each key.

${CODER}
  --organization ORG     Coder organization (default: the config's, else "default")
  --config FILE          controller config JSON or its "provisionerKeys" section
  --secret-id ID         the key's Secrets Manager secret, to mark current/previous keys (local AWS
                         credentials); without it every key shows role "-"
  --region REGION        AWS region of the secret
${COMMON}`;

export const DEMO_USAGE = `Usage: coder-fleet demo [options]

Starts an embedded Coder simulator with a small fleet, runs a families plan and apply, a schedule
preview and a scaling plan on simulated node groups, shows what happened, and stops. No setup,
no AWS, nothing outside this process is touched.

${COMMON}`;

export const MAIN_USAGE = `Usage: coder-fleet <command> [options]

Commands:
  families plan|apply    reconcile workspace families (plan = dry run)
  scale plan|apply       node group sizes for the active scaling profile
  scale savings          node-hours and dollars the schedule saves a week (table, --json, --svg)
  schedule               the next scaling transitions, local and UTC, holidays marked
  keys status            provisioner keys, ages, daemons per key
  keys rotate            start a key rotation, wait for it, show the new key and daemons per key
  demo                   everything above against an embedded Coder simulator, no setup

Run coder-fleet <command> --help for a command's options; coder-fleet --version for the version.
Exit codes: 0 success, 1 failure, 2 bad usage.`;
