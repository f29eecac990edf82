import { describe, expect, it } from 'vitest';
import {
  type FamilyWorkItem,
  familyDeduplicationId,
  familyMessageGroupId,
  queueSafeId,
} from '../../../../lambdas/core/families/webhook/work-item.js';
import { IDS } from './fixtures.js';

const item = (overrides: Partial<FamilyWorkItem> = {}): FamilyWorkItem => ({
  v: 1,
  source: 'notification',
  event: 'workspace_created',
  messageId: `msg-${IDS.message}`,
  workspaceId: IDS.workspace,
  ...overrides,
});

describe('family message groups', () => {
  it.each([
    ['the owner id', item({ ownerId: IDS.owner, ownerName: 'alice' }), `owner-${IDS.owner}`],
    [
      'the owner username, lowercased, when the id is unknown',
      item({ ownerName: 'Alice' }),
      'owner-name-alice',
    ],
    ['the workspace id when nothing names the owner', item(), `workspace-${IDS.workspace}`],
  ])('groups by %s', (_, work, group) => {
    expect(familyMessageGroupId(work)).toBe(group);
  });

  it('deduplicates by the message id', () => {
    expect(familyDeduplicationId(item())).toBe(`msg-${IDS.message}`);
  });
});

describe('queueSafeId', () => {
  it('keeps ids SQS accepts and hashes the others', () => {
    expect(queueSafeId('msg', IDS.message)).toBe(`msg-${IDS.message}`);
    expect(queueSafeId('msg', 'ü')).toMatch(/^msg-[0-9a-f]{64}$/);
    expect(queueSafeId('msg', 'a'.repeat(200))).toMatch(/^msg-[0-9a-f]{64}$/);
  });
});
