/**
 * People using Coder while the controller works: a Poisson stream of owner-initiated builds on
 * workspaces the controller does not manage. Each arrival either creates a new workspace or starts
 * one of the person's stopped ones, through the same state operations the API uses (not over HTTP:
 * people are not what is measured, and their requests must not spend the controller's rate limit).
 * Each build's job is kept, so its queue wait (created_at → started_at, in simulated time) can be read.
 */
import { seededRandom } from './faults.js';
import { latestStatus, newId, type SimJob, type SimUser, type SimWorkspace } from './model.js';
import type { EventScheduler } from './provisioning/scheduler.js';
import type { SimState } from './state.js';

export interface PeopleOptions {
  /** Mean arrivals per simulated minute. */
  readonly perMinute: number;
  /** Usernames of the people (they must exist); each arrival is one of them, at random. */
  readonly owners: readonly string[];
  /** Template of the workspaces people create (and of the stopped ones they start). */
  readonly template: string;
  /** @default the default organization */
  readonly organization?: string;
  /** Share of arrivals that create a workspace; the rest start a stopped one (or create, having none). @default 0.2 */
  readonly createFraction?: number;
  /** @default 1 */
  readonly seed?: number;
}

/** One person's build: times in simulated epoch ms. */
export interface PersonJob {
  readonly kind: 'create' | 'start';
  readonly owner: string;
  readonly workspaceId: string;
  readonly jobId: string;
  readonly createdAt: number;
  /** When a daemon acquired the job; undefined while it waits. */
  readonly startedAt: number | undefined;
}

export interface PeopleFigures {
  readonly arrivals: number;
  /** Arrivals Coder refused (a build already active on every stopped workspace they had, say). */
  readonly refused: number;
  readonly jobs: readonly PersonJob[];
}

export interface PeopleStream {
  /** No arrivals after this; jobs already queued carry on. */
  stop(): void;
  figures(): PeopleFigures;
}

/**
 * Each job's queue wait in ms. A job still waiting at `now` counts with its wait so far (a lower
 * bound), so a queue that never moves cannot look short.
 */
export const queueWaits = (
  jobs: readonly PersonJob[],
  now: number,
  window?: { readonly from?: number; readonly to?: number },
): { readonly waitsMs: number[]; readonly stillWaiting: number } => {
  const waitsMs: number[] = [];
  let stillWaiting = 0;
  for (const job of jobs) {
    if (window?.from !== undefined && job.createdAt < window.from) continue;
    if (window?.to !== undefined && job.createdAt > window.to) continue;
    if (job.startedAt === undefined) stillWaiting++;
    waitsMs.push((job.startedAt ?? now) - job.createdAt);
  }
  return { waitsMs, stillWaiting };
};

interface TrackedJob {
  readonly kind: PersonJob['kind'];
  readonly owner: string;
  readonly workspaceId: string;
  readonly job: SimJob;
}

export const startPeople = (
  state: SimState,
  scheduler: EventScheduler,
  options: PeopleOptions,
): PeopleStream => {
  if (!(options.perMinute > 0)) throw new RangeError(`perMinute must be > 0, got ${options.perMinute}`);
  const random = seededRandom(options.seed ?? 1);
  const template = state.findTemplate(options.template, options.organization);
  const people: SimUser[] = options.owners.map((name) => {
    const user = [...state.users.values()].find((u) => u.username === name);
    if (user === undefined) throw new Error(`unknown person ${name}`);
    return user;
  });
  if (people.length === 0) throw new Error('people need at least one owner');
  const ids = new Set(people.map((p) => p.id));
  // Each person's workspaces of the template, found once; the ones they create are added.
  const own = new Map<string, SimWorkspace[]>(people.map((p) => [p.id, []]));
  for (const ws of state.workspaces.values()) {
    if (!ws.deleted && ws.templateId === template.id && ids.has(ws.ownerId)) own.get(ws.ownerId)?.push(ws);
  }
  const tracked: TrackedJob[] = [];
  let arrivals = 0;
  let refused = 0;
  let created = 0;
  let stopped = false;
  const meanGapMs = 60_000 / options.perMinute;
  const createFraction = options.createFraction ?? 0.2;
  const meta = () => ({ requestId: newId(), userAgent: 'sim-people' });

  const create = (person: SimUser): void => {
    const name = `p${(++created).toString(36)}-${person.username}`.slice(0, 32).replace(/-+$/, '');
    try {
      const ws = state.createWorkspaceNow(person, person, { name, template_id: template.id }, meta());
      own.get(person.id)?.push(ws);
      const build = ws.builds[ws.builds.length - 1];
      if (build !== undefined)
        tracked.push({ kind: 'create', owner: person.username, workspaceId: ws.id, job: build.job });
    } catch {
      refused++;
    }
  };

  const start = (person: SimUser): boolean => {
    const ws = own.get(person.id)?.find((w) => !w.deleted && latestStatus(w) === 'stopped');
    if (ws === undefined) return false;
    try {
      const build = state.createBuild(person, ws, { transition: 'start' }, meta());
      tracked.push({ kind: 'start', owner: person.username, workspaceId: ws.id, job: build.job });
    } catch {
      refused++;
    }
    return true;
  };

  const arrive = (at: number): void => {
    if (stopped) return;
    arrivals++;
    const person = people[Math.floor(random() * people.length)] as SimUser;
    if (random() < createFraction || !start(person)) create(person);
    // Exponential gaps make the arrivals a Poisson process; 1 - u keeps the log finite.
    scheduler.at(at - meanGapMs * Math.log(1 - random()), arrive);
  };
  scheduler.at(scheduler.now() - meanGapMs * Math.log(1 - random()), arrive);

  return {
    stop: () => {
      stopped = true;
    },
    figures: () => ({
      arrivals,
      refused,
      jobs: tracked.map(({ kind, owner, workspaceId, job }) => ({
        kind,
        owner,
        workspaceId,
        jobId: job.id,
        createdAt: Date.parse(job.createdAt),
        startedAt: job.startedAt === undefined ? undefined : Date.parse(job.startedAt),
      })),
    }),
  };
};
