/**
 * coderd's audit line as each log shipper people run puts it in CloudWatch Logs: the text of one
 * log event. Built from the shippers' documented configurations, not from our parser:
 *
 * - The line itself: cdr.dev/slog's JSON sink writes one object per line, keys `ts, level, msg,
 *   caller, func, logger_names, fields` (coder/slog sloggers/slogjson/slogjson.go); the audit
 *   backend logs the row's Go fields plus `actor` under message `audit_log`
 *   (coder/coder enterprise/audit/backends/slog.go). `slogAuditLine` in fixtures.ts is that object.
 * - Container Insights' Fluent Bit (aws-samples/amazon-cloudwatch-container-insights,
 *   k8s-deployment-manifest-templates/deployment-mode/daemonset/container-insights-monitoring/fluent-bit/fluent-bit.yaml,
 *   application-log.conf): `tail` with `multiline.parser docker, cri`, whose cri parser makes the
 *   record `time, stream, _p, log` (fluent-bit src/multiline/flb_ml_parser_cri.c,
 *   `^(?<time>.+?) (?<stream>stdout|stderr) (?<_p>F|P) (?<log>.*)$`); the kubernetes filter with
 *   `Merge_Log On`, `Merge_Log_Key log_processed`, `Labels Off`, `Annotations Off` adds
 *   `kubernetes` and the parsed line under `log_processed`, keeping `log` (`Keep_Log` defaults On;
 *   fluent/fluent-bit-docs pipeline/filters/kubernetes.md); the `cloudwatch_logs` output sends the
 *   whole record as JSON unless `log_key` is set (fluent-bit-docs pipeline/outputs/cloudwatch.md).
 * - Fluent Bit without `Merge_Log` (its default, Off): the same record without `log_processed`.
 *   `Merge_Log On` without `Merge_Log_Key` puts the parsed keys at the record's top level instead.
 *   On Docker nodes the `docker` parser reads json-file lines, `{"log": "<line>\n", "stream", "time"}`.
 * - The CloudWatch agent: each line of a file in `logs.logs_collected.files.collect_list` is one
 *   log event (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html).
 *   Tailing the file coderd writes with `CODER_LOGGING_JSON=<path>` (coder/coder
 *   docs/admin/monitoring/logs.md) ships the line itself; tailing the node's
 *   /var/log/containers/<pod>_<ns>_<container>-<id>.log ships the container runtime's CRI line
 *   `<RFC 3339 time> stdout F <line>`.
 */
import type { AuditLineShape } from '../../../../lambdas/core/families/webhook/audit.js';
import { IDS, slogAuditLine } from './fixtures.js';

export interface ShippedLine {
  /** Which shipper and settings produce it. */
  readonly shipper: string;
  /** The shape the controller should report it as. */
  readonly shape: AuditLineShape;
  /** The CloudWatch Logs event's message. */
  readonly message: string;
}

/** The Kubernetes metadata the kubernetes filter adds with Labels and Annotations Off. */
const kubernetes = {
  pod_name: 'coder-7d9f8b6c5-x2x4q',
  namespace_name: 'coder',
  pod_id: '0d5c3f0e-9b1a-4d2c-8e7f-6a5b4c3d2e1f',
  host: 'ip-10-0-12-34.ec2.internal',
  container_name: 'coder',
  docker_id: '4f6a0a5c2b1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f',
  container_hash:
    'ghcr.io/coder/coder@sha256:1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988',
  container_image: 'ghcr.io/coder/coder:v2.25.0',
};

/** Each shipper's shape of one audit line; `overrides` change the row's Go fields (distinct ids). */
export const shippedAuditLines = (
  overrides: (index: number) => Record<string, unknown> = () => ({}),
): ShippedLine[] => {
  const parsed = (i: number) => slogAuditLine(overrides(i));
  const line = (i: number) => JSON.stringify(parsed(i));
  const cri = { time: '2025-06-01T12:00:00.123456789Z', stream: 'stdout', _p: 'F' };
  return [
    {
      shipper: "coderd's stdout straight to CloudWatch Logs (awslogs driver; Fluent Bit with log_key log)",
      shape: 'line',
      message: line(0),
    },
    {
      shipper: 'CloudWatch agent tailing the CODER_LOGGING_JSON file',
      shape: 'line',
      message: line(1),
    },
    {
      shipper: "Container Insights' Fluent Bit (Merge_Log On, Merge_Log_Key log_processed)",
      shape: 'merged',
      message: JSON.stringify({ ...cri, log: line(2), kubernetes, log_processed: parsed(2) }),
    },
    {
      shipper: 'Fluent Bit, Merge_Log On without Merge_Log_Key',
      shape: 'merged',
      message: JSON.stringify({ ...cri, log: line(3), kubernetes, ...parsed(3) }),
    },
    {
      shipper: 'Fluent Bit kubernetes filter without Merge_Log',
      shape: 'log-string',
      message: JSON.stringify({ ...cri, log: line(4), kubernetes }),
    },
    {
      shipper: "Fluent Bit's docker parser on a json-file node",
      shape: 'log-string',
      message: JSON.stringify({
        log: `${line(5)}\n`,
        stream: 'stdout',
        time: '2025-06-01T12:00:00.123456789Z',
      }),
    },
    {
      shipper: "CloudWatch agent tailing the node's /var/log/containers file",
      shape: 'cri-line',
      message: `2025-06-01T12:00:00.123456789Z stdout F ${line(6)}`,
    },
  ];
};

/** Distinct audit rows and workspaces per shape, so none is deduplicated into another. */
export const distinctRows = (index: number): Record<string, unknown> => ({
  ID: IDS.audit.replace(/.$/, String(index)),
  ResourceID: IDS.workspace.replace(/.$/, String(index)),
});

/** coderd's ordinary lines (and another pod's), in the same shapes: the subscription must not send them. */
export const ordinaryLines = (): Array<{ readonly what: string; readonly message: string }> => {
  const request = {
    ts: '2025-06-01T12:00:01.000Z',
    level: 'INFO',
    msg: 'GET',
    caller: '/home/runner/work/coder/coder/coderd/httpmw/logger.go:58',
    func: 'github.com/coder/coder/v2/coderd/httpmw.Logger.func1.1',
    logger_names: ['coderd'],
    fields: { path: '/api/v2/workspaces', status_code: 200, latency_ms: 12 },
  };
  const build = {
    ...request,
    msg: 'workspace build complete',
    caller: '/home/runner/work/coder/coder/provisionerd/runner/runner.go:640',
    logger_names: ['provisionerd', 'runner'],
    fields: { job_id: IDS.build, workspace_build: 'start' },
  };
  const cri = { time: '2025-06-01T12:00:01.123456789Z', stream: 'stdout', _p: 'F' };
  return [
    { what: 'an HTTP request line', message: JSON.stringify(request) },
    { what: 'a provisioner line', message: JSON.stringify(build) },
    {
      what: 'an HTTP request line through Container Insights',
      message: JSON.stringify({ ...cri, log: JSON.stringify(request), kubernetes, log_processed: request }),
    },
    {
      what: "another pod's plain text line",
      message: JSON.stringify({ ...cri, log: '10.0.3.7 - - "GET /healthz HTTP/1.1" 200', kubernetes }),
    },
    {
      what: 'a CRI line of another container',
      message: '2025-06-01T12:00:01.123456789Z stderr F level=info msg=ready',
    },
    {
      what: "coderd's human-readable line",
      message: '2025-06-01 12:00:01.000 [info]  coderd: GET  path=/api/v2/workspaces',
    },
  ];
};
