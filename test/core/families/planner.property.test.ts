import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChildRecord, FamilyWorkspace } from '../../../lambdas/core/families/model.js';
import { childWorkspaceName } from '../../../lambdas/core/families/names.js';
import { CONTROLLER, config, NOW, planWithWorld, snapshot, workspace } from './fixtures.js';

const GRACE = 10 * 60_000;

/** A random world: parents with counts, recorded children (alive or gone), squatters, missing parents. */
const world = fc
  .record({
    parents: fc.array(
      fc.record({
        name: fc.constantFrom('team', 'web', 'api', 'data', 'x'),
        count: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(25)),
        alive: fc.boolean(),
        deleting: fc.boolean(),
        recorded: fc.array(
          fc.record({
            index: fc.integer({ min: 1, max: 8 }),
            alive: fc.boolean(),
            confirmed: fc.boolean(),
            busy: fc.boolean(),
          }),
          { maxLength: 6 },
        ),
        squat: fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 2 }),
        missingForMs: fc.option(fc.integer({ min: 0, max: 2 * GRACE }), { nil: undefined }),
      }),
      { maxLength: 4 },
    ),
    policy: fc.constantFrom('delete' as const, 'stop' as const, 'keep' as const),
    follow: fc.boolean(),
  })
  .map(({ parents, policy, follow }) => {
    const seen = new Set<string>();
    const workspaces: FamilyWorkspace[] = [];
    const params: Array<[FamilyWorkspace, Record<string, string>]> = [];
    const children: ChildRecord[] = [];
    const missing: Array<{ owner: string; parent: string; since: number }> = [];
    const squatters = new Set<string>();
    const taken = new Set<string>();
    for (const p of parents) {
      if (seen.has(p.name)) continue;
      seen.add(p.name);
      if (p.alive) {
        const ws = workspace(
          p.name,
          p.deleting ? { build: { transition: 'delete', status: 'deleting', jobActive: true } } : {},
        );
        workspaces.push(ws);
        taken.add(p.name);
        params.push([ws, { additional_workspaces: String(p.count), cpu: '2' }]);
      }
      const indices = new Set<number>();
      for (const r of p.recorded) {
        if (indices.has(r.index)) continue;
        indices.add(r.index);
        const name = childWorkspaceName(p.name, r.index);
        let childId: string | undefined;
        if (r.alive && !taken.has(name)) {
          const ws = workspace(name, { build: { number: 1, initiatorId: CONTROLLER, jobActive: r.busy } });
          workspaces.push(ws);
          taken.add(name);
          childId = ws.id;
        }
        children.push({
          owner: 'alice',
          parent: p.name,
          index: r.index,
          childName: name,
          state: r.confirmed ? 'confirmed' : 'intent',
          intentAt: NOW.getTime() - GRACE,
          parentId: 'p',
          runId: 'r',
          childId: r.confirmed ? (childId ?? 'deleted-child') : undefined,
        });
      }
      for (const i of p.squat) {
        const name = childWorkspaceName(p.name, i);
        if (taken.has(name)) continue;
        const ws = workspace(name, { build: { number: 1, initiatorId: 'alice-id' } });
        workspaces.push(ws);
        taken.add(name);
        squatters.add(ws.id);
      }
      if (p.missingForMs !== undefined)
        missing.push({ owner: 'alice', parent: p.name, since: NOW.getTime() - p.missingForMs });
    }
    return {
      snap: snapshot(workspaces, params, { children, missing }),
      squatters,
      cfg: config({ removalPolicy: policy, followParentPower: follow, maxChildren: 5, gracePeriodMs: GRACE }),
    };
  });

describe('planFamilyReconcile properties', () => {
  it('never stops, starts, deletes or releases a workspace the ledger does not record as a confirmed child', () => {
    fc.assert(
      fc.property(world, ({ snap, cfg }) => {
        const confirmed = new Set(
          snap.ledger.children.filter((c) => c.state === 'confirmed').map((c) => c.childId),
        );
        for (const a of planWithWorld(snap, NOW, cfg)) {
          if (
            a.kind === 'delete-child' ||
            a.kind === 'stop-child' ||
            a.kind === 'start-child' ||
            a.kind === 'release-child'
          ) {
            expect(confirmed.has(a.childId)).toBe(true);
          }
        }
      }),
    );
  });

  it('never creates a name that a live workspace holds, and never creates the same name twice', () => {
    fc.assert(
      fc.property(world, ({ snap, cfg }) => {
        const held = new Set(snap.workspaces.map((w) => w.name.toLowerCase()));
        const creates = planWithWorld(snap, NOW, cfg).filter((a) => a.kind === 'create-child');
        for (const c of creates) expect(held.has(c.childName.toLowerCase())).toBe(false);
        expect(new Set(creates.map((c) => c.childName)).size).toBe(creates.length);
      }),
    );
  });

  it('creates exactly the missing indices of a live parent, up to maxChildren', () => {
    fc.assert(
      fc.property(world, ({ snap, cfg }) => {
        const actions = planWithWorld(snap, NOW, cfg);
        for (const [ws, p] of snap.parameters) {
          const parent = snap.workspaces.find((w) => w.latestBuild.id === ws);
          if (!parent || parent.latestBuild.transition === 'delete') continue;
          const n = Math.min(
            Number(
              p.kind === 'full' ? p.values.find((x) => x.name === 'additional_workspaces')?.value : p.count,
            ),
            cfg.maxChildren,
          );
          const records = snap.ledger.children.filter((c) => c.parent === parent.name);
          const held = new Set(snap.workspaces.map((w) => w.name));
          const expected = [];
          for (let i = 1; i <= n; i++) {
            const record = records.find((r) => r.index === i);
            const name = record?.childName ?? childWorkspaceName(parent.name, i);
            const aliveChild = record?.childId && snap.workspaces.some((w) => w.id === record.childId);
            if (!aliveChild && !held.has(name)) expected.push(i);
          }
          const created = actions
            .filter((a) => a.kind === 'create-child' && a.family.parent === parent.name)
            .map((a) => ('index' in a ? a.index : 0));
          expect(created).toEqual(expected);
        }
      }),
    );
  });

  it('never removes anything of a missing parent before the grace period is over', () => {
    fc.assert(
      fc.property(world, ({ snap, cfg }) => {
        const live = new Set(
          snap.workspaces.filter((w) => w.latestBuild.transition !== 'delete').map((w) => w.name),
        );
        for (const a of planWithWorld(snap, NOW, cfg)) {
          if (!['delete-child', 'stop-child', 'release-child'].includes(a.kind)) continue;
          if (live.has(a.family.parent) && snap.parameters.size > 0) continue;
          const since = snap.ledger.missing.find((m) => m.parent === a.family.parent)?.since;
          if (a.kind === 'stop-child' && !a.removal) continue;
          if (!live.has(a.family.parent)) {
            expect(since).toBeDefined();
            expect(NOW.getTime() - (since ?? NOW.getTime())).toBeGreaterThanOrEqual(GRACE);
          }
        }
      }),
    );
  });

  it('never plans a family for a ledger child, whatever its parameters', () => {
    fc.assert(
      fc.property(world, ({ snap, cfg }) => {
        const childNames = new Set(snap.ledger.children.map((c) => c.childName));
        for (const a of planWithWorld(snap, NOW, cfg)) {
          expect(childNames.has(a.family.parent) && a.kind === 'create-child').toBe(false);
        }
      }),
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(world, ({ snap, cfg }) => {
        expect(planWithWorld(snap, NOW, cfg)).toEqual(planWithWorld(snap, NOW, cfg));
      }),
    );
  });
});
