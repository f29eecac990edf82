import { describe, expect, it } from 'vitest';
import {
  classifyAuditRecords,
  parseJsonOrJsonLines,
} from '../../../../lambdas/core/families/webhook/audit.js';
import { flatBuildAudit, IDS, slogAuditLine } from './fixtures.js';
import { distinctRows, shippedAuditLines } from './shipped-lines.js';

describe('classifyAuditRecords', () => {
  it('turns a coderd slog audit_log line (Go field names under `fields`) into a work item', () => {
    // Act
    const [result] = classifyAuditRecords(slogAuditLine());

    // Assess
    expect(result).toEqual({
      outcome: 'work',
      shape: 'line',
      label: 'audit workspace/create',
      item: {
        v: 1,
        source: 'audit',
        event: 'workspace_created',
        messageId: `audit-${IDS.audit}`,
        workspaceId: IDS.workspace,
        workspaceName: 'my-team',
        ownerId: IDS.owner,
      },
    });
  });

  it('reads a flattened workspace_build row whose additional_fields is JSON text', () => {
    const [result] = classifyAuditRecords([flatBuildAudit()]);

    expect(result).toMatchObject({
      outcome: 'work',
      item: {
        event: 'workspace_started',
        workspaceId: IDS.workspace,
        workspaceName: 'my-team',
        ownerName: 'alice',
      },
    });
  });

  it('unwraps a shipper record that carries the raw line in `log`', () => {
    const [result] = classifyAuditRecords({ date: 1717243200.0, log: JSON.stringify(slogAuditLine()) });

    expect(result).toMatchObject({ outcome: 'work', item: { workspaceId: IDS.workspace } });
  });

  it.each(shippedAuditLines(distinctRows).filter((l) => l.shape !== 'cri-line'))(
    'accepts $shipper, as shape $shape',
    ({ message, shape }) => {
      const [result] = classifyAuditRecords(JSON.parse(message));

      expect(result).toMatchObject({ outcome: 'work', shape, item: { event: 'workspace_created' } });
    },
  );

  it('prefers the parsed copy to the text beside it, and reports no shape for other lines', () => {
    const record = {
      log: 'not the line any more',
      kubernetes: { pod_name: 'coder-0' },
      log_processed: slogAuditLine(),
    };
    expect(classifyAuditRecords(record)[0]).toMatchObject({ outcome: 'work', shape: 'merged' });
    expect(classifyAuditRecords({ log: 'plain', kubernetes: {} })[0]).not.toHaveProperty('shape');
  });

  it.each([
    ['stop', 'workspace_stopped'],
    ['delete', 'workspace_deleted'],
  ])('maps workspace_build/%s to %s', (action, event) => {
    expect(classifyAuditRecords(flatBuildAudit({ action }))[0]).toMatchObject({
      outcome: 'work',
      item: { event },
    });
  });

  it.each([
    ['a failed build', flatBuildAudit({ status_code: 500 }), 'audit workspace_build/start failed'],
    ['a template change', slogAuditLine({ ResourceType: 'template', Action: 'write' }), 'audit other'],
    ['a login', slogAuditLine({ ResourceType: 'api_key', Action: 'login' }), 'audit other'],
  ])('ignores %s', (_, record, label) => {
    expect(classifyAuditRecords(record)[0]).toMatchObject({ outcome: 'ignored', label });
  });

  it('ignores other log lines a shipper sends along', () => {
    const results = classifyAuditRecords([
      { ts: 'x', level: 'INFO', msg: 'http request', fields: { path: '/api/v2/users' } },
      { log: 'plain text line' },
      'a string',
      42,
    ]);

    expect(results.map((r) => r.outcome)).toEqual(['ignored', 'ignored', 'ignored', 'ignored']);
  });

  it('reports an audit entry without its id as invalid, and ignores one it cannot place', () => {
    const [missingId] = classifyAuditRecords(slogAuditLine({ ID: undefined }));
    const [noWorkspace] = classifyAuditRecords(flatBuildAudit({ additional_fields: '{}' }));

    expect(missingId).toEqual({
      outcome: 'invalid',
      shape: 'line',
      problem: 'audit entry with missing or invalid fields: id',
    });
    // Well-formed but impossible to place: ignored (2xx), so a shipper does not resend it forever.
    expect(noWorkspace).toMatchObject({
      outcome: 'ignored',
      label: 'audit workspace_build/start',
      reason: 'no-workspace',
    });
  });

  it('hashes an audit id that SQS would not accept as a deduplication id, the same way every time', () => {
    const odd = `id with spaces ${'x'.repeat(200)}`;
    const [a] = classifyAuditRecords(slogAuditLine({ ID: odd }));
    const [b] = classifyAuditRecords(slogAuditLine({ ID: odd }));

    expect(a).toMatchObject({
      outcome: 'work',
      item: { messageId: expect.stringMatching(/^audit-[0-9a-f]{64}$/) },
    });
    expect(a).toEqual(b);
  });
});

describe('parseJsonOrJsonLines', () => {
  it('parses one JSON document', () => {
    expect(parseJsonOrJsonLines('[{"a":1}]')).toEqual({ ok: true, value: [{ a: 1 }] });
  });

  it('parses JSON lines into a list', () => {
    expect(parseJsonOrJsonLines('{"a":1}\n{"b":2}\n')).toEqual({ ok: true, value: [{ a: 1 }, { b: 2 }] });
  });

  it.each(['{', '{"a":1}\nnot json', ''])('rejects %j', (text) => {
    expect(parseJsonOrJsonLines(text)).toEqual({ ok: false });
  });
});
