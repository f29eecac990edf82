/**
 * The report's verdicts (report.ts): why a run stopped early, and the continuation it asks for.
 */
import { describe, expect, it } from 'vitest';
import type { StopCause } from '../../../lambdas/core/families/executor.js';
import type { PacingReport } from '../../../lambdas/core/families/pacing.js';
import {
  continuationOf,
  type FamilyResult,
  MAX_CONTINUATION_FAMILIES,
  whyIncomplete,
} from '../../../lambdas/core/families/report.js';

const family = (parent: string) => ({ owner: 'alice', parent });
const paced = (overrides: Partial<PacingReport> = {}): PacingReport => ({
  cap: 2,
  active: 0,
  daemons: 4,
  allowed: 2,
  turnedAway: 3,
  noProvisioner: false,
  reason: 'the controller may have 2 jobs pending or running',
  queued: 0,
  othersOldestPendingSeconds: undefined,
  ...overrides,
});
const settled = (parent: string, stoppedBy?: StopCause): FamilyResult => ({
  kind: 'settled',
  family: family(parent),
  actions: [],
  hardLimited: false,
  stoppedBy,
});
const results: FamilyResult[] = [
  settled('done'),
  settled('half', 'provisioner-cap'),
  { kind: 'carried', family: family('unread') },
  { kind: 'left', family: family('late') },
  settled('cut', 'out-of-time'),
];

describe('whyIncomplete', () => {
  it('says out of time first, counting the families not started or cut', () => {
    const why = whyIncomplete(results, {
      paced: paced(),
      stopped: true,
      stoppedWhileReading: undefined,
      remainingMs: 812.4,
    });
    expect(why).toEqual({
      reason: 'deadline',
      familiesLeft: 2,
      detail: 'out of time with 812 ms left before the deadline; 2 families left for the next run',
    });
  });

  it('says the families were not all read when the run stopped while reading', () => {
    const why = whyIncomplete([], {
      paced: undefined,
      stopped: true,
      stoppedWhileReading: 'list page 3',
      remainingMs: -5,
    });
    expect(why).toMatchObject({ familiesLeft: undefined });
    expect(why?.detail).toBe(
      'out of time with 0 ms left before the deadline; the families were not all read for the next run (list page 3)',
    );
  });

  it('says paced, with the jobs and families turned away, or no provisioner', () => {
    expect(
      whyIncomplete(results, {
        paced: paced(),
        stopped: false,
        stoppedWhileReading: undefined,
        remainingMs: 1,
      }),
    ).toEqual({
      reason: 'provisioner-cap',
      familiesLeft: 2,
      detail: 'the controller may have 2 jobs pending or running; 3 jobs of 2 families left for the next run',
    });
    expect(
      whyIncomplete(results, {
        paced: paced({ noProvisioner: true }),
        stopped: false,
        stoppedWhileReading: undefined,
        remainingMs: 1,
      })?.reason,
    ).toBe('no-provisioner');
  });

  it('says nothing for a run that finished, paced or not', () => {
    const finished = [settled('done')];
    expect(
      whyIncomplete(finished, {
        paced: paced(),
        stopped: false,
        stoppedWhileReading: undefined,
        remainingMs: 1,
      }),
    ).toBeUndefined();
    expect(
      whyIncomplete(finished, {
        paced: undefined,
        stopped: false,
        stoppedWhileReading: undefined,
        remainingMs: 1,
      }),
    ).toBeUndefined();
  });
});

describe('continuationOf', () => {
  it('carries the families turned away, in order', () => {
    expect(continuationOf(results, { dryRun: false, paced: paced(), afterSeconds: 15 })).toEqual({
      afterSeconds: 15,
      families: [family('half'), family('unread')],
    });
  });

  it(`carries at most ${MAX_CONTINUATION_FAMILIES}`, () => {
    const many: FamilyResult[] = Array.from({ length: 600 }, (_, i) => ({
      kind: 'carried',
      family: family(`p${i}`),
    }));
    const continuation = continuationOf(many, { dryRun: false, paced: paced(), afterSeconds: 15 });
    expect(continuation?.families).toHaveLength(MAX_CONTINUATION_FAMILIES);
    expect(continuation?.families[0]).toEqual(family('p0'));
  });

  it.each([
    ['a dry run', { dryRun: true, paced: paced(), afterSeconds: 15 }],
    [
      'no daemon to take the jobs',
      { dryRun: false, paced: paced({ noProvisioner: true }), afterSeconds: 15 },
    ],
    ['continuations off', { dryRun: false, paced: paced(), afterSeconds: 0 }],
    ['a run that was not paced', { dryRun: false, paced: undefined, afterSeconds: 15 }],
  ])('asks for none in %s', (_name, run) => {
    expect(continuationOf(results, run)).toBeUndefined();
  });
});
