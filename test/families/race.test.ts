import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reconcileFamilies } from '../../lambdas/core/families/run.js';
import { COUNT, type FamilyHarness, startFamilyHarness, TEMPLATE } from './harness.js';

describe('concurrent reconciles of the same family', () => {
  let h: FamilyHarness;
  beforeEach(async () => {
    // A wide create race window makes two creates of one name both pass Coder's pre-check.
    h = await startFamilyHarness({ users: ['alice', 'bob'], sim: { createRaceWindowMs: 5 } });
  });
  afterEach(async () => {
    await h.close();
  });

  it('a scheduled and two webhook-driven reconciles racing create each child exactly once', async () => {
    // Prepare: two Lambda containers' worth of deps on the same tables (the real DynamoDB lock).
    const scheduled = h.makeDeps();
    const webhookA = h.makeDeps();
    const webhookB = h.makeDeps();
    const team = h.sim.seed.workspace({
      owner: 'alice',
      name: 'team',
      template: TEMPLATE,
      parameters: { [COUNT]: '4' },
    });
    h.sim.seed.workspace({ owner: 'bob', name: 'lab', template: TEMPLATE, parameters: { [COUNT]: '3' } });

    // Act: three rounds of all three at once.
    const reports = [];
    for (let round = 0; round < 3; round++) {
      reports.push(
        ...(await Promise.all([
          reconcileFamilies(scheduled, { scope: { kind: 'all' }, dryRun: false, trigger: 'schedule' }),
          reconcileFamilies(webhookA, {
            scope: { kind: 'workspace', workspaceId: team.id },
            dryRun: false,
            trigger: 'webhook',
          }),
          reconcileFamilies(webhookB, {
            scope: { kind: 'family', owner: 'alice', parent: 'team' },
            dryRun: false,
            trigger: 'webhook',
          }),
        ])),
      );
      h.sim.advanceBuilds();
    }

    // Assess: each child created once (201s), none deleted, no conflicts with ourselves.
    const created = h.sim
      .exchanges()
      .filter((e) => e.method === 'POST' && e.route === '/api/v2/users/{user}/workspaces')
      .filter((e) => e.status === 201)
      .map((e) => (e.requestBody as { name: string }).name)
      .sort();
    expect(created).toEqual(['lab-1', 'lab-2', 'lab-3', 'team-1', 'team-2', 'team-3', 'team-4']);
    const everything = h.sim.workspacesSnapshot({ includeDeleted: true });
    expect(everything.filter((w) => w.deleted)).toEqual([]);
    expect(everything).toHaveLength(9);
    expect(reports.reduce((n, r) => n + r.conflicts + r.failures, 0)).toBe(0);
    // The lock did its job: somebody was turned away at least once.
    expect(reports.some((r) => r.skippedLocked.includes('alice/team'))).toBe(true);
    const ledger = await h.ledger.loadAll();
    expect(ledger.children.filter((c) => c.state === 'confirmed')).toHaveLength(7);
  });
});
