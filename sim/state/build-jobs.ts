/** The provisioner jobs behind workspace builds, run on timers instead of by a provisioner daemon. */
import { ACTIVE_JOB_STATUSES, type SimBuild, type SimWorkspace } from '../model.js';
import type { RequestMeta } from './audit.js';

/** Called once a build's job has succeeded, with the moment it did. */
export type BuildSucceeded = (
  ws: SimWorkspace,
  build: SimBuild,
  now: Date,
  requestMeta?: RequestMeta,
) => void;

export class BuildJobs {
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private closed = false;

  constructor(
    private readonly buildDurationMs: number,
    private readonly succeeded: BuildSucceeded,
  ) {}

  /** pending for the first half of the build duration, running for the second, then succeeded. */
  schedule(ws: SimWorkspace, build: SimBuild, requestMeta?: RequestMeta): void {
    if (this.closed) return;
    const half = Math.floor(this.buildDurationMs / 2);
    const toRunning = setTimeout(() => this.markRunning(build), half);
    const toDone = setTimeout(() => this.complete(ws, build, requestMeta), this.buildDurationMs);
    this.timers.set(build.job.id, [toRunning, toDone]);
  }

  private markRunning(build: SimBuild): void {
    if (build.job.status !== 'pending') return;
    const now = new Date().toISOString();
    build.job.status = 'running';
    build.job.startedAt = now;
    build.updatedAt = now;
  }

  /** Finish the job now, if it is still in flight. */
  complete(ws: SimWorkspace, build: SimBuild, requestMeta?: RequestMeta): void {
    const timers = this.timers.get(build.job.id);
    if (timers !== undefined) for (const t of timers) clearTimeout(t);
    this.timers.delete(build.job.id);
    if (!ACTIVE_JOB_STATUSES.has(build.job.status)) return;
    this.markRunning(build);
    const now = new Date();
    const nowIso = now.toISOString();
    build.job.status = 'succeeded';
    build.job.completedAt = nowIso;
    build.updatedAt = nowIso;
    this.succeeded(ws, build, now, requestMeta);
  }

  close(): void {
    this.closed = true;
    for (const timers of this.timers.values()) for (const t of timers) clearTimeout(t);
    this.timers.clear();
  }
}
