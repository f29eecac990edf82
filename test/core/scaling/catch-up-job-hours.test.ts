import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CatchUpInputError,
  catchUpJobHours,
  type FamiliesPacingHistory,
} from '../../../lambdas/core/scaling/catch-up-job-hours.js';

const from = new Date('2026-12-07T05:00:00Z');
const to = new Date('2026-12-14T05:00:00Z');
const hour = (h: number) => new Date(from.getTime() + h * 3_600_000).toISOString();
const points = (values: Record<number, number>) =>
  Object.entries(values).map(([h, value]) => ({ at: hour(Number(h)), value }));
const history = (
  jobsInFlight: Record<number, number>,
  pacedRuns: Record<number, number>,
  atCap: Record<number, number> = {},
): FamiliesPacingHistory => ({
  jobsInFlight: points(jobsInFlight),
  pacedRuns: points(pacedRuns),
  atCap: points(atCap),
});

describe('catchUpJobHours', () => {
  it.each([
    {
      name: 'one hour of one run with 4 jobs in flight: 4 job-hours',
      input: history({ 0: 4 }, { 0: 1 }),
      expected: { jobHours: 4, hoursWithRuns: 1, pacedRuns: 1, hoursAtCap: 0 },
    },
    {
      name: 'the hourly mean over the runs, × 1 h each; hours without a datapoint count 0',
      input: history({ 0: 7.5, 1: 2.25, 40: 0 }, { 0: 120, 1: 4, 40: 1 }, { 0: 1, 1: 0, 40: 0 }),
      expected: { jobHours: 9.75, hoursWithRuns: 3, pacedRuns: 125, hoursAtCap: 1 },
    },
    {
      name: 'runs that found none of its jobs in flight: measured, 0 job-hours',
      input: history({ 3: 0 }, { 3: 2 }, { 3: 0 }),
      expected: { jobHours: 0, hoursWithRuns: 1, pacedRuns: 2, hoursAtCap: 0 },
    },
  ])('$name', ({ input, expected }) => {
    expect(catchUpJobHours(input, from, to)).toEqual({ kind: 'measured', ...expected });
  });

  it('says nothing was measured when no series has a datapoint in the window', () => {
    expect(catchUpJobHours(history({}, {}), from, to)).toEqual({ kind: 'no-metrics' });
    // Datapoints outside [from, to) belong to another window.
    expect(catchUpJobHours(history({ [-1]: 3, 168: 3 }, { [-1]: 1, 168: 1 }), from, to)).toEqual({
      kind: 'no-metrics',
    });
  });

  it('counts the hour at the window’s start and leaves out the one at its end', () => {
    const result = catchUpJobHours(history({ 0: 1, 167: 2, 168: 100 }, { 0: 1, 167: 1, 168: 1 }), from, to);

    expect(result).toMatchObject({ kind: 'measured', jobHours: 3, hoursWithRuns: 2 });
  });

  it.each([
    [
      'a negative average',
      history({ 0: -1 }, { 0: 1 }),
      /jobs in flight \(Average\) at .*: -1 is not a count/,
    ],
    ['a NaN run count', history({ 0: 1 }, { 0: Number.NaN }), /paced runs \(SampleCount\) at .*: NaN/],
    ['runs without an average', history({}, { 0: 2 }), /2 paced runs but no average/],
    ['an average without runs', history({ 0: 3 }, {}), /an average of jobs in flight but no runs/],
    [
      'two datapoints for one hour',
      { ...history({ 0: 1 }, { 0: 1 }), atCap: [...points({ 0: 1 }), ...points({ 0: 0 })] },
      /at cap \(Maximum\): two datapoints at/,
    ],
    [
      'a time that is not one',
      { ...history({}, {}), pacedRuns: [{ at: 'yesterday', value: 1 }] },
      /"yesterday" is not a time/,
    ],
  ])('rejects %s with a CatchUpInputError naming it', (_name, input, message) => {
    expect(() => catchUpJobHours(input, from, to)).toThrow(CatchUpInputError);
    expect(() => catchUpJobHours(input, from, to)).toThrow(message);
  });

  it('rejects a window that does not end after it starts', () => {
    expect(() => catchUpJobHours(history({}, {}), to, from)).toThrow(/must end after it starts/);
  });

  it('is the sum of the hourly means, and never more than the hours with runs × the busiest hour', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.integer({ min: 0, max: 167 }).map(String),
          fc.record({
            mean: fc.integer({ min: 0, max: 4000 }).map((n) => n / 4),
            runs: fc.integer({ min: 1, max: 120 }),
          }),
        ),
        (hours) => {
          const entries = Object.entries(hours);
          const input = history(
            Object.fromEntries(entries.map(([h, v]) => [h, v.mean])),
            Object.fromEntries(entries.map(([h, v]) => [h, v.runs])),
          );

          const result = catchUpJobHours(input, from, to);

          if (entries.length === 0) {
            expect(result).toEqual({ kind: 'no-metrics' });
            return;
          }
          const means = entries.map(([, v]) => v.mean);
          expect(result).toEqual({
            kind: 'measured',
            jobHours: means.reduce((a, b) => a + b, 0),
            hoursWithRuns: entries.length,
            pacedRuns: entries.reduce((sum, [, v]) => sum + v.runs, 0),
            hoursAtCap: 0,
          });
          if (result.kind === 'measured')
            expect(result.jobHours).toBeLessThanOrEqual(entries.length * Math.max(...means));
        },
      ),
    );
  });
});
