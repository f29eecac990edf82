import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyNotification,
  coderNotificationSchema,
} from '../../../../lambdas/core/families/webhook/notification.js';
import { familyWorkItemSchema } from '../../../../lambdas/core/families/webhook/work-item.js';
import {
  IDS,
  OTP_CODE,
  OTP_EMAIL,
  oneTimePasscode,
  testNotification,
  workspaceCreated,
  workspaceDeleted,
  workspaceManuallyUpdated,
} from './fixtures.js';

const classify = (body: unknown, header?: string) =>
  classifyNotification(coderNotificationSchema.parse(body), header);

describe('classifyNotification', () => {
  it.each([
    ['Workspace Created', workspaceCreated(), 'workspace_created'],
    ['Workspace Manually Updated', workspaceManuallyUpdated(), 'workspace_updated'],
  ])('%s becomes a work item with workspace, owner and names from targets and data', (_, body, event) => {
    // Act
    const result = classify(body);

    // Assess
    expect(result).toEqual({
      outcome: 'work',
      label: _,
      item: {
        v: 1,
        source: 'notification',
        event,
        messageId: `msg-${IDS.message}`,
        workspaceId: IDS.workspace,
        workspaceName: 'my-team',
        ownerId: IDS.owner,
        ownerName: 'alice',
      },
    });
    if (result.outcome === 'work') expect(familyWorkItemSchema.parse(result.item)).toEqual(result.item);
  });

  it('takes the owner username from the recipient of an owner-addressed notification (Workspace Deleted)', () => {
    const result = classify(workspaceDeleted());

    expect(result).toMatchObject({
      outcome: 'work',
      item: {
        event: 'workspace_deleted',
        workspaceId: IDS.workspace,
        ownerId: IDS.owner,
        ownerName: 'alice',
      },
    });
  });

  it('never takes a template admin recipient for the owner', () => {
    const body = workspaceDeleted();
    body.payload.user_id = IDS.admin;
    body.payload.user_username = 'tadmin';

    const result = classify(body);

    expect(result.outcome).toBe('work');
    if (result.outcome === 'work') expect(result.item.ownerName).toBeUndefined();
  });

  it.each([
    ['One-Time Passcode', oneTimePasscode(), 'Other Notification'],
    ['a test notification', testNotification(), 'Test Notification'],
    [
      'Template Deleted',
      {
        ...testNotification(),
        payload: {
          ...testNotification().payload,
          notification_template_id: '29a09665-2a4c-403f-9648-54301670e7be',
        },
      },
      'Template Deleted',
    ],
    [
      'an autostop reminder (about a workspace, not about families)',
      {
        ...workspaceCreated(),
        payload: {
          ...workspaceCreated().payload,
          notification_template_id: '6f6cb984-c167-4fa5-bb87-1058dd642779',
        },
      },
      'Workspace Autostop Reminder',
    ],
  ])('ignores %s', (_, body, label) => {
    expect(classify(body)).toEqual({
      outcome: 'ignored',
      label,
      messageId: `msg-${IDS.message}`,
      reason: 'not-a-family-event',
    });
  });

  it('recognises a workspace template by name when its id is unknown', () => {
    const body = workspaceCreated();
    body.payload.notification_template_id = '00000000-0000-4000-8000-000000000000';

    expect(classify(body)).toMatchObject({ outcome: 'work', item: { event: 'workspace_created' } });
  });

  it('uses X-Message-Id when the body has no msg_id, and rejects a message with neither', () => {
    const { msg_id: _, ...withoutId } = workspaceCreated();

    expect(classify(withoutId, 'abc-123')).toMatchObject({
      outcome: 'work',
      item: { messageId: 'msg-abc-123' },
    });
    expect(classify(withoutId)).toEqual({
      outcome: 'invalid',
      problem: 'no message id (msg_id or X-Message-Id)',
    });
  });

  it('acts on a "Workspace Deleted" without targets (before coder/coder#16985) by owner and name', () => {
    const { targets: _, ...payload } = workspaceDeleted().payload;
    const body = { ...workspaceDeleted(), payload };

    expect(classify(body)).toEqual({
      outcome: 'work',
      label: 'Workspace Deleted',
      item: {
        v: 1,
        source: 'notification',
        event: 'workspace_deleted',
        messageId: `msg-${IDS.message}`,
        workspaceName: body.payload.labels?.name,
        ownerId: body.payload.user_id,
        ownerName: body.payload.user_username,
      },
    });
  });

  it('ignores, with its reason, a workspace notification it cannot place (no id, no owner and name)', () => {
    const body = workspaceCreated();
    body.payload.targets = ['not-a-uuid'];
    body.payload.data = null;
    body.payload.labels = {};

    expect(classify(body)).toEqual({
      outcome: 'ignored',
      label: 'Workspace Created',
      messageId: `msg-${IDS.message}`,
      reason: 'no-workspace',
    });
  });

  it('rejects an outer payload that is not version 1.x', () => {
    expect(coderNotificationSchema.safeParse({ ...workspaceCreated(), _version: '2.0' }).success).toBe(false);
  });

  it('tolerates fields it does not know', () => {
    const body = {
      ...workspaceCreated(),
      extra: { nested: true },
      payload: { ...workspaceCreated().payload, future: 1 },
    };

    expect(classify(body).outcome).toBe('work');
  });

  it('lets nothing but ids and names out of any notification (passcodes, emails and labels stay behind)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 40 }).filter((s) => /[^A-Za-z0-9_.-]/.test(s)),
        fc.constantFrom(oneTimePasscode(), workspaceCreated(), workspaceDeleted(), testNotification()),
        (secret, base) => {
          const body = structuredClone(base);
          body.payload.labels = {
            ...body.payload.labels,
            one_time_passcode: secret,
            workspace_owner_username: secret,
          };
          body.payload.user_email = secret;

          const result = JSON.stringify(classify(body));

          expect(result).not.toContain(secret);
          expect(result).not.toContain(OTP_CODE);
          expect(result).not.toContain(OTP_EMAIL);
        },
      ),
    );
  });
});
