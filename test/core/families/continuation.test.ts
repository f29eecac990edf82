/**
 * One continuation pending per deployment (continuation.ts): a paced run sends one unless one is
 * pending; the continuation's run gives its lease back as it starts; a failed send gives it back;
 * a lost message frees it after its lease.
 */
import { describe, expect, it } from 'vitest';
import {
  CONTINUATION_LOCK,
  type ContinuationEvent,
  claimContinuation,
  deferScheduledRun,
  PENDING_LEASE_MS,
  scheduleContinuation,
} from '../../../lambdas/core/families/continuation.js';
import { InMemoryFamilyLocks } from '../../../lambdas/core/families/in-memory.js';

const families = [{ owner: 'alice', parent: 'team' }];

const setup = () => {
  const locks = new InMemoryFamilyLocks();
  const sent: Array<{ event: ContinuationEvent; delaySeconds: number }> = [];
  let clock = Date.parse('2026-12-06T17:00:00Z');
  let failing = false;
  const parts = {
    locks,
    now: () => new Date(clock),
    queue: {
      send: async (event: ContinuationEvent, delaySeconds: number) => {
        if (failing) throw new Error('AWS.SimpleQueueService.NonExistentQueue');
        sent.push({ event, delaySeconds });
      },
    },
  };
  return {
    locks,
    sent,
    parts,
    advance: (ms: number) => {
      clock += ms;
    },
    fail: (on: boolean) => {
      failing = on;
    },
  };
};

describe('scheduleContinuation', () => {
  it('sends the families with its token and delay, then no other while it is pending', async () => {
    const { parts, sent } = setup();

    const first = await scheduleContinuation(parts, {
      afterSeconds: 10,
      families,
      token: 't-1',
      supersede: false,
    });
    const second = await scheduleContinuation(parts, {
      afterSeconds: 10,
      families,
      token: 't-2',
      supersede: false,
    });

    expect(first).toEqual({ scheduled: '2026-12-06T17:00:10.000Z' });
    expect(second).toEqual({ alreadyPending: expect.stringMatching(/already pending; it carries on/) });
    expect(sent).toEqual([
      { event: { trigger: 'continuation', families: ['alice/team'], token: 't-1' }, delaySeconds: 10 },
    ]);
  });

  it("lets the continuation's own run send the next once it has claimed it", async () => {
    const { parts, sent, locks } = setup();
    await scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-1', supersede: false });

    await claimContinuation(locks, 't-1');
    const next = await scheduleContinuation(parts, {
      afterSeconds: 10,
      families,
      token: 't-2',
      supersede: false,
    });

    expect(next).toHaveProperty('scheduled');
    expect(sent.map((s) => s.event.token)).toEqual(['t-1', 't-2']);
  });

  it('gives the lease back when the send fails, so the next paced run can try', async () => {
    const { parts, fail } = setup();
    fail(true);
    await expect(
      scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-1', supersede: false }),
    ).rejects.toThrow(/NonExistentQueue/);
    fail(false);
    expect(
      await scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-2', supersede: false }),
    ).toHaveProperty('scheduled');
  });

  it('frees a continuation whose message was lost once its lease ends, not before', async () => {
    const { parts, advance } = setup();
    await scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-1', supersede: false });
    advance(10_000 + PENDING_LEASE_MS - 1);
    expect(
      await scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-2', supersede: false }),
    ).toHaveProperty('alreadyPending');
    advance(2);
    expect(
      await scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-3', supersede: false }),
    ).toHaveProperty('scheduled');
  });

  it('lets a scheduled run supersede the pending continuation; the late one then sends nothing after it', async () => {
    const { parts, sent, locks } = setup();
    await scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-1', supersede: false });

    // The scheduled run replaces it (its view is fresher).
    const scheduled = await scheduleContinuation(parts, {
      afterSeconds: 10,
      families,
      token: 't-2',
      supersede: true,
    });
    // The superseded continuation arrives late: its claim releases nothing, its own send is refused.
    await claimContinuation(locks, 't-1');
    const late = await scheduleContinuation(parts, {
      afterSeconds: 10,
      families,
      token: 't-3',
      supersede: false,
    });

    expect(scheduled).toHaveProperty('scheduled');
    expect(late).toHaveProperty('alreadyPending');
    expect(sent.map((s) => s.event.token)).toEqual(['t-1', 't-2']);
  });

  it("never claims another's continuation: a stale token releases nothing", async () => {
    const { parts, locks } = setup();
    await scheduleContinuation(parts, { afterSeconds: 10, families, token: 't-1', supersede: false });
    await claimContinuation(locks, 'not-t-1');
    expect(await locks.tryAcquire(CONTINUATION_LOCK, 'someone', 1, Date.parse('2026-12-06T17:00:00Z'))).toBe(
      false,
    );
  });
});

describe('deferScheduledRun', () => {
  const every = 30 * 60_000;
  const t0 = Date.parse('2026-12-06T17:00:00Z');

  it('lets every scheduled run go ahead while no continuation is pending, marking it as the last full run', async () => {
    const locks = new InMemoryFamilyLocks();
    expect(await deferScheduledRun(locks, { now: t0, everyMs: every, runId: 'r-1' })).toBeUndefined();
    expect(
      await deferScheduledRun(locks, { now: t0 + 300_000, everyMs: every, runId: 'r-2' }),
    ).toBeUndefined();
  });

  it('defers while a continuation is pending and the last full run is recent; goes ahead once it is not', async () => {
    const locks = new InMemoryFamilyLocks();
    await deferScheduledRun(locks, { now: t0, everyMs: every, runId: 'r-1' });
    await locks.tryAcquire(CONTINUATION_LOCK, 'chain', PENDING_LEASE_MS, t0);

    const soon = await deferScheduledRun(locks, { now: t0 + 300_000, everyMs: every, runId: 'r-2' });
    // The chain goes on (each continuation takes the lease anew).
    await locks.tryAcquire(CONTINUATION_LOCK, 'chain', PENDING_LEASE_MS, t0 + every);
    const later = await deferScheduledRun(locks, { now: t0 + every + 1, everyMs: every, runId: 'r-3' });
    const again = await deferScheduledRun(locks, { now: t0 + every + 300_000, everyMs: every, runId: 'r-4' });

    expect(soon).toMatch(/continuations are catching up.*at most every 30 min/);
    expect(later).toBeUndefined();
    expect(again).toMatch(/continuations are catching up/);
  });

  it('never defers when set to 0', async () => {
    const locks = new InMemoryFamilyLocks();
    await locks.tryAcquire(CONTINUATION_LOCK, 'chain', PENDING_LEASE_MS, t0);
    await deferScheduledRun(locks, { now: t0, everyMs: every, runId: 'r-1' });
    expect(await deferScheduledRun(locks, { now: t0 + 1, everyMs: 0, runId: 'r-2' })).toBeUndefined();
  });
});
