/** What runs the provisioner jobs behind workspace builds: timers (the default) or the provisioner queue. */
import type { SimBuild, SimJob, SimWorkspace } from '../model.js';
import type { RequestMeta } from '../state/audit.js';

/** Called once a build's job has succeeded, with the moment it did. */
export type BuildSucceeded = (
  ws: SimWorkspace,
  build: SimBuild,
  now: Date,
  requestMeta?: RequestMeta,
) => void;

/** A job's place in the queue as one of Coder's queries computes it (0 and 0 when not pending). */
export interface QueuePosition {
  readonly position: number;
  readonly size: number;
}

export interface JobRunner {
  /** Bumped whenever a job changes status, so cached listings know they are stale. */
  readonly version: number;
  /** A build was created with a pending job. */
  enqueue(ws: SimWorkspace, build: SimBuild, requestMeta?: RequestMeta): void;
  /** Finishes the job now if it is still active, whoever would have run it. */
  complete(ws: SimWorkspace, build: SimBuild, requestMeta?: RequestMeta): void;
  /** `job.queue_position` / `queue_size` on a build (GetProvisionerJobsByIDsWithQueuePosition). */
  buildQueuePosition(job: SimJob): QueuePosition;
  close(): void;
}
