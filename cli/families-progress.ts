/**
 * The families engine's progress events as a person at a terminal sees them: a meter while build
 * parameters are read, a meter of actions carried out once the first change starts, and (without a
 * meter) one line per action of an apply. Drawn from typed events, never from log text.
 */
import { familyId } from '../lambdas/core/families/model.js';
import type { FamilyProgressSink } from '../lambdas/core/families/progress.js';
import type { CliOutput } from './output.js';
import type { ProgressMeter } from './progress.js';

/** Parameter reads worth a meter: below this many the phase is over before a line is drawn. */
const METERED_READS = 100;

export const familiesProgress = (
  out: CliOutput,
  meter: ProgressMeter,
  options: { readonly showActions: boolean },
): FamilyProgressSink => {
  let reading: { total: number; done: number } | undefined;
  let acting = false;
  return (event) => {
    switch (event.kind) {
      case 'parameters-read': {
        if (event.total < METERED_READS) return;
        if (!reading || reading.total !== event.total) {
          meter.start('reading build parameters', event.total);
          reading = { total: event.total, done: 0 };
        }
        meter.add(event.done - reading.done);
        reading.done = event.done;
        if (event.done >= event.total) meter.done();
        return;
      }
      case 'snapshot-read':
        if (reading && reading.done < reading.total) meter.done();
        reading = undefined;
        return;
      case 'changes-planned':
        if (options.showActions && event.actions > 0) {
          meter.start('actions carried out', event.actions);
          acting = true;
        }
        return;
      case 'action-settled': {
        if (!options.showActions || event.action.outcome === 'planned') return;
        if (acting && meter.active) {
          if (event.action.outcome !== 'skipped' || event.action.stoppedBy) meter.add(1);
          return;
        }
        const child =
          'childName' in event.action && event.action.childName ? ` ${event.action.childName}` : '';
        out.progress(`  ${event.action.outcome}: ${familyId(event.family)} ${event.action.kind}${child}`);
        return;
      }
      default: {
        const unknown: never = event;
        throw new Error(`unknown progress event ${JSON.stringify(unknown)}`);
      }
    }
  };
};
