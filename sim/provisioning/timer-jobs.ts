/**
 * The default job runner: every job runs on its own timer however many are queued, as if Coder had
 * an unlimited provisioner pool. Tests that are not about provisioning use it; the provisioner
 * queue (queue.ts) is what a simulator started with `provisioners` runs instead.
 */
import { isoNow, type SimTime } from '../clock.js';
import { ACTIVE_JOB_STATUSES, type SimBuild, type SimJob, type SimWorkspace } from '../model.js';
import type { RequestMeta } from '../state/audit.js';
import type { BuildSucceeded, JobRunner, QueuePosition } from './runner.js';

export class TimerJobs implements JobRunner {
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private closed = false;
  version = 0;

  constructor(
    /** Real milliseconds from pending through running to succeeded. */
    private readonly buildDurationMs: number,
    private readonly time: SimTime,
    private readonly succeeded: BuildSucceeded,
  ) {}

  /** pending for the first half of the build duration, running for the second, then succeeded. */
  enqueue(ws: SimWorkspace, build: SimBuild, requestMeta?: RequestMeta): void {
    if (this.closed) return;
    const half = Math.floor(this.buildDurationMs / 2);
    const toRunning = setTimeout(() => this.markRunning(build), half);
    const toDone = setTimeout(() => this.complete(ws, build, requestMeta), this.buildDurationMs);
    this.timers.set(build.job.id, [toRunning, toDone]);
  }

  /** No daemons to rank against: a pending job is first of one, as before the queue existed. */
  buildQueuePosition(job: SimJob): QueuePosition {
    return job.status === 'pending' ? { position: 1, size: 1 } : { position: 0, size: 0 };
  }

  private markRunning(build: SimBuild): void {
    if (build.job.status !== 'pending') return;
    const now = isoNow(this.time);
    build.job.status = 'running';
    build.job.startedAt = now;
    build.updatedAt = now;
    this.version++;
  }

  /** Finish the job now, if it is still in flight. */
  complete(ws: SimWorkspace, build: SimBuild, requestMeta?: RequestMeta): void {
    const timers = this.timers.get(build.job.id);
    if (timers !== undefined) for (const t of timers) clearTimeout(t);
    this.timers.delete(build.job.id);
    if (!ACTIVE_JOB_STATUSES.has(build.job.status)) return;
    this.markRunning(build);
    const now = new Date(this.time.now());
    const nowIso = now.toISOString();
    build.job.status = 'succeeded';
    build.job.completedAt = nowIso;
    build.updatedAt = nowIso;
    this.version++;
    this.succeeded(ws, build, now, requestMeta);
  }

  close(): void {
    this.closed = true;
    for (const timers of this.timers.values()) for (const t of timers) clearTimeout(t);
    this.timers.clear();
  }
}
