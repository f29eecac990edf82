/**
 * Coder's provisioner queue: jobs wait until a daemon whose tags match acquires them, each daemon
 * runs one job at a time, and a job runs for a duration drawn from a distribution. Read from
 * coder/coder main (about v2.37-devel, late 2025), coderd/database/queries/provisionerjobs.sql:
 *
 * - Acquisition (`AcquireProvisionerJob`): a daemon takes the oldest pending job (`started_at IS
 *   NULL`) of its own organization whose tags it satisfies (`provisioner_tagset_contains`, tags.ts),
 *   human-initiated jobs before the prebuilds user's (`ORDER BY initiator_id = <prebuilds> ASC,
 *   created_at ASC`, coder/coder#18933), `FOR UPDATE SKIP LOCKED` so two daemons never take the
 *   same job. A daemon waiting for work is woken when a job is posted (coderd/provisionerdserver
 *   acquirer.go listens on the `provisioner_job_posted` channel), so an idle daemon takes a matching
 *   job the moment it is queued.
 * - A build's `queue_position` / `queue_size` (`GetProvisionerJobsByIDsWithQueuePosition`): pending
 *   jobs are ranked per online daemon (seen within the stale interval) among the pending jobs that
 *   daemon could take, in acquisition order; the job's position is its best rank over those
 *   daemons, the size the largest such queue; 0 and 0 when no online daemon can take it. The query
 *   does not filter by organization, and neither does this.
 * - The organization's job list (`GetProvisionerJobsByOrganizationAndStatusWithQueuePositionAndProvisioner`,
 *   behind `GET /organizations/{org}/provisionerjobs`) ranks differently: one global queue of every
 *   pending job in acquisition order, its size the count of all pending jobs.
 *
 * Jobs are events on the simulator's clock (scheduler.ts), so a job that ends while nobody looks
 * still ends on time and the daemon takes its next job at that moment.
 */
import {
  PREBUILDS_SYSTEM_USER_ID,
  type SimBuild,
  type SimJob,
  type SimProvisionerDaemon,
  type SimWorkspace,
} from '../model.js';
import type { RequestMeta } from '../state/audit.js';
import type { ProvisionerRegistry } from '../state/provisioners.js';
import type { DaemonPoolSpec } from '../types.js';
import { GrowableFenwick } from './fenwick.js';
import { PendingList } from './pending-list.js';
import type { BuildSucceeded, JobRunner, QueuePosition } from './runner.js';
import type { EventScheduler } from './scheduler.js';
import { tagsetContains, tagsKey } from './tags.js';

/** `provisionerdserver.StaleInterval`: a daemon not seen for this long is offline. */
export const DAEMON_STALE_MS = 90_000;

interface ActiveJob {
  readonly id: string;
  readonly ws: SimWorkspace;
  readonly build: SimBuild;
  readonly requestMeta: RequestMeta | undefined;
  readonly createdMs: number;
  readonly prebuild: boolean;
  /** Its place in the arrival order of its list (human or prebuild), for counting ranks. */
  readonly seq: number;
  /** Bumped when the job is finished early, so its scheduled completion is ignored. */
  token: number;
}

/** Counts of pending jobs by arrival order, humans and prebuilds apart, for one set of daemon tags. */
interface RankCounts {
  readonly tags: Readonly<Record<string, string>> | undefined;
  readonly human: GrowableFenwick;
  readonly prebuild: GrowableFenwick;
}

/** A job as the benchmark reads it: times in simulated epoch ms. */
export interface SimJobView {
  readonly id: string;
  readonly workspaceId: string;
  readonly workspaceName: string;
  readonly ownerId: string;
  readonly templateId: string;
  readonly transition: SimBuild['transition'];
  readonly initiatorId: string;
  readonly status: SimJob['status'];
  readonly createdAt: number;
  readonly startedAt: number | undefined;
  readonly completedAt: number | undefined;
  readonly workerName: string | undefined;
}

export class ProvisionerQueue implements JobRunner {
  private readonly active = new Map<string, ActiveJob>();
  /** Acquisition order: every human-initiated job before any prebuild (coder/coder#18933). */
  private readonly human = new PendingList<ActiveJob>();
  private readonly prebuilds = new PendingList<ActiveJob>();
  /** Bumped on every change to the pending set or a job's status (listings are cached on it). */
  version = 0;
  private humanSeq = 0;
  private prebuildSeq = 0;
  /**
   * Ranks kept up to date as jobs come and go, so a position costs a few logarithmic lookups
   * rather than a walk over thousands of pending jobs: every pending job, and per set of daemon
   * tags, the pending jobs those daemons can take.
   */
  private readonly allRanks: RankCounts = {
    tags: undefined,
    human: new GrowableFenwick(),
    prebuild: new GrowableFenwick(),
  };
  private readonly groupRanks = new Map<string, RankCounts>();
  private online:
    | { at: number; version: number; groups: ReadonlyArray<SimProvisionerDaemon['tags']> }
    | undefined;
  /** Bumped when pools change (daemons start or stop). */
  private registryVersion = 0;
  private closed = false;

  constructor(
    private readonly scheduler: EventScheduler,
    private readonly registry: ProvisionerRegistry,
    private readonly duration: () => number,
    private readonly succeeded: BuildSucceeded,
  ) {}

  // ---- jobs ------------------------------------------------------------------------------------

  enqueue(ws: SimWorkspace, build: SimBuild, requestMeta?: RequestMeta): void {
    if (this.closed) return;
    const createdMs = Date.parse(build.job.createdAt);
    const prebuild = build.job.initiatorId === PREBUILDS_SYSTEM_USER_ID;
    const seq = prebuild ? this.prebuildSeq++ : this.humanSeq++;
    const entry: ActiveJob = { id: build.job.id, ws, build, requestMeta, createdMs, prebuild, seq, token: 0 };
    this.active.set(entry.id, entry);
    this.pendingListOf(build.job).insert(entry, createdMs);
    this.countRank(entry, 1);
    this.version++;
    const at = Math.max(createdMs, this.scheduler.now());
    for (const d of this.registry.daemons.values()) {
      if (!this.canAcquire(d)) continue;
      if (tagsetContains(d.tags, build.job.tags) && d.orgId === build.job.orgId) {
        this.acquireFor(d, at);
        break;
      }
    }
  }

  /** Finishes an active job now, pending or running (the simulator's `advanceBuilds`). */
  complete(_ws: SimWorkspace, build: SimBuild): void {
    const entry = this.active.get(build.job.id);
    if (entry === undefined) return;
    const at = this.scheduler.now();
    if (build.job.status === 'pending') {
      this.pendingListOf(build.job).remove(entry.id);
      this.countRank(entry, -1);
      this.version++;
      build.job.status = 'running';
      build.job.startedAt = new Date(at).toISOString();
      this.finish(entry, at, undefined);
      return;
    }
    entry.token++;
    const worker = [...this.registry.daemons.values()].find((d) => d.currentJobId === entry.id);
    this.finish(entry, at, worker);
  }

  get pendingCount(): number {
    return this.human.size + this.prebuilds.size;
  }

  /** Every job still pending or running. */
  activeJobs(): Array<{ ws: SimWorkspace; build: SimBuild }> {
    return [...this.active.values()].map(({ ws, build }) => ({ ws, build }));
  }

  // ---- daemons ---------------------------------------------------------------------------------

  /** Resizes a pool (see ProvisionerRegistry.setPool); new daemons start taking jobs at once. */
  setPool(spec: DaemonPoolSpec): void {
    const started = this.registry.setPool(spec);
    this.version++;
    this.registryVersion++;
    const at = this.scheduler.now();
    for (const d of started) this.acquireFor(d, at);
  }

  private canAcquire(d: SimProvisionerDaemon): boolean {
    return d.live === true && d.draining !== true && d.currentJobId === undefined;
  }

  /** `AcquireProvisionerJob` for one idle daemon at time `at`. */
  private acquireFor(d: SimProvisionerDaemon, at: number): void {
    if (!this.canAcquire(d)) return;
    const takes = (job: ActiveJob) =>
      job.build.job.orgId === d.orgId && tagsetContains(d.tags, job.build.job.tags);
    const entry = this.human.find(takes) ?? this.prebuilds.find(takes);
    if (entry === undefined) return;
    this.pendingListOf(entry.build.job).remove(entry.id);
    this.countRank(entry, -1);
    this.version++;
    const job = entry.build.job;
    const startedAt = new Date(at).toISOString();
    job.status = 'running';
    job.startedAt = startedAt;
    job.workerId = d.id;
    entry.build.updatedAt = startedAt;
    d.currentJobId = job.id;
    d.lastSeenAt = startedAt;
    const token = entry.token;
    this.scheduler.at(at + Math.max(1, this.duration()), (doneAt) => {
      if (this.active.get(entry.id) !== entry || entry.token !== token) return;
      this.finish(entry, doneAt, d);
    });
  }

  private finish(entry: ActiveJob, at: number, worker: SimProvisionerDaemon | undefined): void {
    const job = entry.build.job;
    const done = new Date(at);
    job.status = 'succeeded';
    job.completedAt = done.toISOString();
    entry.build.updatedAt = job.completedAt;
    this.active.delete(entry.id);
    this.version++;
    this.succeeded(entry.ws, entry.build, done, entry.requestMeta);
    if (worker === undefined) return;
    worker.currentJobId = undefined;
    worker.previousJobId = job.id;
    worker.lastSeenAt = job.completedAt;
    this.version++;
    if (worker.draining === true) {
      this.registry.stopDaemon(worker);
      this.registryVersion++;
    } else this.acquireFor(worker, at);
  }

  private pendingListOf(job: SimJob): PendingList<ActiveJob> {
    return job.initiatorId === PREBUILDS_SYSTEM_USER_ID ? this.prebuilds : this.human;
  }

  // ---- queue positions -------------------------------------------------------------------------

  /** Pending jobs in acquisition order. */
  private *pendingInOrder(): IterableIterator<ActiveJob> {
    yield* this.human;
    yield* this.prebuilds;
  }

  private countRank(entry: ActiveJob, delta: number): void {
    const add = (counts: RankCounts) =>
      (entry.prebuild ? counts.prebuild : counts.human).add(entry.seq, delta);
    add(this.allRanks);
    for (const counts of this.groupRanks.values()) {
      if (counts.tags !== undefined && tagsetContains(counts.tags, entry.build.job.tags)) add(counts);
    }
  }

  /** The rank counts of one set of daemon tags, started from the jobs pending now the first time. */
  private ranksFor(tags: SimProvisionerDaemon['tags']): RankCounts {
    const key = this.keyOf(tags);
    let counts = this.groupRanks.get(key);
    if (counts === undefined) {
      counts = { tags, human: new GrowableFenwick(), prebuild: new GrowableFenwick() };
      for (const entry of this.pendingInOrder()) {
        if (tagsetContains(tags, entry.build.job.tags))
          (entry.prebuild ? counts.prebuild : counts.human).add(entry.seq, 1);
      }
      this.groupRanks.set(key, counts);
    }
    return counts;
  }

  private readonly tagKeys = new WeakMap<object, string>();

  /** A daemon's tags never change after it starts, so their key is worked out once. */
  private keyOf(tags: SimProvisionerDaemon['tags']): string {
    let key = this.tagKeys.get(tags);
    if (key === undefined) {
      key = tagsKey(tags);
      this.tagKeys.set(tags, key);
    }
    return key;
  }

  /** 1-based rank of a pending job among the ones `counts` covers, humans first; and their number. */
  private static rank(counts: RankCounts, entry: ActiveJob): QueuePosition {
    const position = entry.prebuild
      ? counts.human.total + counts.prebuild.prefix(entry.seq)
      : counts.human.prefix(entry.seq);
    return { position, size: counts.human.total + counts.prebuild.total };
  }

  /**
   * The tag sets of online daemons (`online_provisioner_daemons`: seen within the stale interval),
   * worked out at most once a simulated second, or when pools change: a page of pending workspaces
   * asks for it a hundred times.
   */
  private onlineGroups(): ReadonlyArray<SimProvisionerDaemon['tags']> {
    const now = this.scheduler.now();
    const cached = this.online;
    if (cached !== undefined && cached.version === this.registryVersion && now - cached.at < 1_000) {
      return cached.groups;
    }
    this.registry.heartbeat();
    const groups = new Map<string, SimProvisionerDaemon['tags']>();
    for (const d of this.registry.daemons.values()) {
      if (d.status === 'offline' || now - Date.parse(d.lastSeenAt) > DAEMON_STALE_MS) continue;
      const key = this.keyOf(d.tags);
      if (!groups.has(key)) groups.set(key, d.tags);
    }
    this.online = { at: now, version: this.registryVersion, groups: [...groups.values()] };
    return this.online.groups;
  }

  /** `GetProvisionerJobsByIDsWithQueuePosition`: a build's job, ranked per online daemon. */
  buildQueuePosition(job: SimJob): QueuePosition {
    const entry = this.active.get(job.id);
    if (job.status !== 'pending' || entry === undefined) return { position: 0, size: 0 };
    let best: QueuePosition | undefined;
    for (const tags of this.onlineGroups()) {
      if (!tagsetContains(tags, job.tags)) continue;
      const ranked = ProvisionerQueue.rank(this.ranksFor(tags), entry);
      best =
        best === undefined
          ? ranked
          : { position: Math.min(best.position, ranked.position), size: Math.max(best.size, ranked.size) };
    }
    return best ?? { position: 0, size: 0 };
  }

  /** The job list's ranking: one queue of every pending job, in acquisition order. */
  listQueuePosition(job: SimJob): QueuePosition {
    const entry = this.active.get(job.id);
    const size = this.pendingCount;
    if (job.status !== 'pending' || entry === undefined) return { position: 0, size };
    return { position: ProvisionerQueue.rank(this.allRanks, entry).position, size };
  }

  /** Daemons of the job's organization that could take it, oldest first (`available_workers`). */
  availableWorkers(job: SimJob): string[] {
    return [...this.registry.daemons.values()]
      .filter((d) => d.orgId === job.orgId && tagsetContains(d.tags, job.tags))
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
      .map((d) => d.id);
  }

  close(): void {
    this.closed = true;
  }
}
