/**
 * The simulator's provisioner queue against what coderd does (sim/provisioning/queue.ts cites the
 * queries): acquisition order, tag matching, one job per daemon, queue positions, pools scaled to 0,
 * the job list, and the simulated clock. Jobs last 60 simulated seconds; the tests move the clock
 * with `advance`, so nothing depends on how fast the machine is.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CoderSimulator,
  type CoderSimulatorOptions,
  PREBUILDS_SYSTEM_USER_ID,
  queueWaits,
  startCoderSimulator,
} from '../../sim/index.js';
import { jobDurationSampler } from '../../sim/provisioning/durations.js';
import { tagsetContains } from '../../sim/provisioning/tags.js';
import { api } from './http.js';

interface Job {
  id: string;
  status: string;
  queue_position: number;
  queue_size: number;
  worker_name?: string;
  initiator_id: string;
  tags: Record<string, string>;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  available_workers?: string[] | null;
  metadata: { workspace_name: string };
}
interface Workspace {
  id: string;
  name: string;
  latest_build: { job: Job };
}
interface Daemon {
  name: string;
  status: string;
  current_job: { id: string; status: string; template_name: string } | null;
  previous_job: { id: string; status: string } | null;
}

const JOB_MS = 60_000;
let sim: CoderSimulator | undefined;

afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const start = async (options: CoderSimulatorOptions = {}): Promise<CoderSimulator> => {
  sim = await startCoderSimulator({
    rateLimit: false,
    provisioners: { jobDuration: { kind: 'fixed', ms: JOB_MS }, pools: [{ name: 'pool', count: 2 }] },
    ...options,
  });
  return sim;
};

const create = async (s: CoderSimulator, owner: string, name: string, templateId: string, token?: string) => {
  const res = await api<Workspace>(s, 'POST', `/api/v2/users/${owner}/workspaces`, {
    body: { name, template_id: templateId },
    token,
  });
  expect(res.status).toBe(201);
  return res.body;
};

const workspace = async (s: CoderSimulator, owner: string, name: string) =>
  (await api<Workspace>(s, 'GET', `/api/v2/users/${owner}/workspace/${name}`)).body;

const jobsOf = (s: CoderSimulator) =>
  (s.provisioners?.jobs() ?? [])
    .filter((j) => j.transition === 'start' && j.createdAt > 0)
    .sort((a, b) => a.createdAt - b.createdAt);

describe('the provisioner queue', () => {
  it('runs one job per daemon, oldest first; the rest wait in order and start when a daemon frees up', async () => {
    // Prepare
    const s = await start();
    const t = s.seed.template({ name: 'dev' });
    s.seed.user({ username: 'bob' });

    // Act
    for (const name of ['a', 'b', 'c', 'd', 'e']) await create(s, 'bob', name, t.id);

    // Assess
    const first = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => workspace(s, 'bob', n)));
    expect(first.map((w) => w.latest_build.job.status)).toEqual([
      'running',
      'running',
      'pending',
      'pending',
      'pending',
    ]);
    const daemons = (await api<Daemon[]>(s, 'GET', '/api/v2/organizations/default/provisionerdaemons')).body;
    expect(daemons.map((d) => d.status)).toEqual(['busy', 'busy']);
    expect(daemons.map((d) => d.current_job?.template_name)).toEqual(['dev', 'dev']);

    s.clock.advance(JOB_MS);
    const jobs = jobsOf(s).filter((j) => j.templateId === t.id);
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'running', 'running', 'pending']);
    // The freed daemons took the next jobs the moment the first ones ended.
    const [a, b, c, d] = jobs;
    expect(c?.startedAt).toBe(a?.completedAt);
    expect(d?.startedAt).toBe(b?.completedAt);
    const after = (await api<Daemon[]>(s, 'GET', '/api/v2/organizations/default/provisionerdaemons')).body;
    expect(after.every((x) => x.previous_job?.status === 'succeeded')).toBe(true);

    s.clock.advance(2 * JOB_MS);
    expect(jobsOf(s).every((j) => j.status === 'succeeded')).toBe(true);
    const idle = (await api<Daemon[]>(s, 'GET', '/api/v2/organizations/default/provisionerdaemons')).body;
    expect(idle.map((x) => [x.status, x.current_job])).toEqual([
      ['idle', null],
      ['idle', null],
    ]);
  });

  it("takes people's jobs before the prebuilds user's, whatever their age (coder/coder#18933)", async () => {
    const s = await start({
      provisioners: { jobDuration: { kind: 'fixed', ms: JOB_MS }, pools: [{ name: 'pool', count: 1 }] },
    });
    const t = s.seed.template({ name: 'dev' });
    s.seed.user({ username: 'bob' });
    const prebuilds = s.seed.user({ username: 'prebuilds', id: PREBUILDS_SYSTEM_USER_ID, roles: ['owner'] });

    await create(s, 'bob', 'first', t.id); // takes the only daemon
    await create(s, 'prebuilds', 'pb-1', t.id, prebuilds.token);
    await create(s, 'prebuilds', 'pb-2', t.id, prebuilds.token);
    await create(s, 'bob', 'late', t.id);

    const late = await workspace(s, 'bob', 'late');
    const pb1 = await workspace(s, 'prebuilds', 'pb-1');
    expect(late.latest_build.job.queue_position).toBe(1);
    expect(pb1.latest_build.job.queue_position).toBe(2);
    s.clock.advance(JOB_MS);
    expect((await workspace(s, 'bob', 'late')).latest_build.job.status).toBe('running');
    expect((await workspace(s, 'prebuilds', 'pb-1')).latest_build.job.status).toBe('pending');
  });

  it.each([
    ['untagged job, untagged daemon', { scope: 'organization', owner: '' }, {}, true],
    ['untagged job, tagged daemon', { scope: 'organization', owner: '', pool: 'a' }, {}, false],
    ['tagged job, daemon with every tag and more', { pool: 'a', zone: 'x' }, { pool: 'a' }, true],
    ['tagged job, daemon missing a tag', { zone: 'x' }, { pool: 'a' }, false],
  ])('matches tags like provisioner_tagset_contains: %s', (_name, daemon, job, expected) => {
    const full = (tags: Record<string, string>) => ({ scope: 'organization', owner: '', ...tags });
    expect(tagsetContains(full(daemon), full(job))).toBe(expected);
  });

  it('gives a job only to daemons of its organization whose tags it matches, and ranks it per daemon', async () => {
    const s = await start({
      provisioners: {
        jobDuration: { kind: 'fixed', ms: JOB_MS },
        pools: [
          { name: 'plain', count: 1 },
          { name: 'tagged', tags: { pool: 'a' }, count: 1 },
        ],
      },
    });
    s.seed.organization({ name: 'other' });
    s.provisioners?.setPool({ name: 'elsewhere', organization: 'other', count: 3 });
    const plain = s.seed.template({ name: 'plain' });
    const tagged = s.seed.template({ name: 'tagged', provisionerTags: { pool: 'a' } });
    s.seed.user({ username: 'bob' });

    // Both daemons busy, then two jobs of each kind waiting.
    await create(s, 'bob', 'u0', plain.id);
    await create(s, 'bob', 'a0', tagged.id);
    for (const name of ['u1', 'a1', 'u2', 'a2']) {
      await create(s, 'bob', name, name.startsWith('u') ? plain.id : tagged.id);
    }

    // A build's position: its rank among the jobs the same daemons can take.
    const position = async (name: string) => {
      const job = (await workspace(s, 'bob', name)).latest_build.job;
      return [job.queue_position, job.queue_size];
    };
    expect(await position('u1')).toEqual([1, 2]);
    expect(await position('u2')).toEqual([2, 2]);
    expect(await position('a1')).toEqual([1, 2]);
    expect(await position('a2')).toEqual([2, 2]);
    expect((await workspace(s, 'bob', 'a0')).latest_build.job.worker_name).toBe('tagged-1');
    expect((await workspace(s, 'bob', 'u0')).latest_build.job.worker_name).toBe('plain-1');

    // The organization's job list ranks every pending job in one queue.
    const listed = await api<Job[]>(s, 'GET', '/api/v2/organizations/default/provisionerjobs?status=pending');
    expect(listed.body.map((j) => [j.metadata.workspace_name, j.queue_position, j.queue_size])).toEqual([
      ['a2', 4, 4],
      ['u2', 3, 4],
      ['a1', 2, 4],
      ['u1', 1, 4],
    ]);
    expect(listed.body.every((j) => j.available_workers?.length === 1)).toBe(true);
  });

  it('keeps jobs pending while a pool is scaled to 0, shows no daemon once it is stale, and runs them when it is back', async () => {
    const s = await start();
    const t = s.seed.template({ name: 'dev' });
    s.seed.user({ username: 'bob' });
    s.provisioners?.setPool({ name: 'pool', count: 0 });

    await create(s, 'bob', 'night', t.id);
    expect((await workspace(s, 'bob', 'night')).latest_build.job.queue_position).toBe(1);
    // The stopped daemons' rows stay; after the stale interval (90 s) they are offline.
    s.clock.advance(91_000);
    const job = (await workspace(s, 'bob', 'night')).latest_build.job;
    expect([job.status, job.queue_position, job.queue_size]).toEqual(['pending', 0, 0]);
    const daemons = await api<Daemon[]>(
      s,
      'GET',
      '/api/v2/organizations/default/provisionerdaemons?offline=true',
    );
    expect(daemons.body.map((d) => d.status)).toEqual(['offline', 'offline']);
    s.clock.advance(3_600_000);
    expect((await workspace(s, 'bob', 'night')).latest_build.job.status).toBe('pending');

    s.provisioners?.setPool({ name: 'pool', count: 1 });
    expect((await workspace(s, 'bob', 'night')).latest_build.job.status).toBe('running');
    const online = await api<Daemon[]>(s, 'GET', '/api/v2/organizations/default/provisionerdaemons');
    expect(online.body.map((d) => [d.name, d.status])).toEqual([['pool-3', 'busy']]);
  });

  it('lets a busy daemon finish its job when its pool is scaled down', async () => {
    const s = await start();
    const t = s.seed.template({ name: 'dev' });
    s.seed.user({ username: 'bob' });
    for (const name of ['a', 'b', 'c']) await create(s, 'bob', name, t.id);

    s.provisioners?.setPool({ name: 'pool', count: 1 });
    s.clock.advance(JOB_MS);
    const jobs = jobsOf(s).filter((j) => j.templateId === t.id);
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'running']);
    expect(jobs[2]?.workerName).toBe('pool-1');
  });
});

describe('GET /organizations/{organization}/provisionerjobs', () => {
  it('filters by status, ids, tags and initiator, newest first, at most limit', async () => {
    const s = await start();
    const plain = s.seed.template({ name: 'plain' });
    const tagged = s.seed.template({ name: 'tagged', provisionerTags: { pool: 'a' } });
    const bob = s.seed.user({ username: 'bob' });
    const eve = s.seed.user({ username: 'eve' });
    await create(s, 'bob', 'b1', plain.id, bob.token);
    await create(s, 'bob', 'b2', plain.id, bob.token);
    await create(s, 'eve', 'e1', plain.id, eve.token);
    const taggedWs = await create(s, 'eve', 'e2', tagged.id, eve.token);
    const path = '/api/v2/organizations/default/provisionerjobs';
    const names = (jobs: Job[]) => jobs.map((j) => j.metadata.workspace_name);

    expect(names((await api<Job[]>(s, 'GET', `${path}?status=pending,running`)).body)).toEqual([
      'e2',
      'e1',
      'b2',
      'b1',
    ]);
    expect(names((await api<Job[]>(s, 'GET', `${path}?status=running`)).body)).toEqual(['b2', 'b1']);
    expect(names((await api<Job[]>(s, 'GET', `${path}?status=pending,running&limit=1`)).body)).toEqual([
      'e2',
    ]);
    expect(names((await api<Job[]>(s, 'GET', `${path}?initiator=${bob.id}`)).body)).toEqual(['b2', 'b1']);
    expect(names((await api<Job[]>(s, 'GET', `${path}?initiator=eve`)).body)).toEqual(['e2', 'e1']);
    const tags = encodeURIComponent(JSON.stringify({ pool: 'a' }));
    expect(names((await api<Job[]>(s, 'GET', `${path}?tags=${tags}`)).body)).toEqual(['e2']);
    const jobId = taggedWs.latest_build.job.id;
    expect(names((await api<Job[]>(s, 'GET', `${path}?ids=${jobId}`)).body)).toEqual(['e2']);
    const one = await api<Job>(s, 'GET', `${path}/${jobId}`);
    expect([one.status, one.body.initiator_id, one.body.tags.pool]).toEqual([
      200,
      taggedWs.latest_build.job.initiator_id,
      'a',
    ]);
    // A job nobody can take (no daemon has pool=a) is listed with no available workers.
    expect(one.body.available_workers).toBeNull();
  });

  it('is hidden from members and, before coder/coder#20137, rejects initiator', async () => {
    const s = await start({ coderVersion: '2.25' });
    const member = s.seed.user({ username: 'member' });
    const path = '/api/v2/organizations/default/provisionerjobs';
    expect((await api(s, 'GET', path, { token: member.token })).status).toBe(404);
    expect((await api(s, 'GET', `${path}?status=pending`)).status).toBe(200);
    expect((await api(s, 'GET', `${path}?initiator=admin`)).status).toBe(400);
  });
});

describe('the simulated clock', () => {
  it('runs jobs on simulated time: at 600× a 60 s job ends after about 100 ms, stamped 60 s apart', async () => {
    const s = await start({ timeScale: 600 });
    const t = s.seed.template({ name: 'dev' });
    s.seed.user({ username: 'bob' });
    const realStart = Date.now();
    await create(s, 'bob', 'fast', t.id);

    let job = (await workspace(s, 'bob', 'fast')).latest_build.job;
    while (job.status !== 'succeeded' && Date.now() - realStart < 5_000) {
      await new Promise((r) => setTimeout(r, 10));
      job = (await workspace(s, 'bob', 'fast')).latest_build.job;
    }

    expect(job.status).toBe('succeeded');
    expect(Date.parse(job.completed_at ?? '') - Date.parse(job.started_at ?? '')).toBe(JOB_MS);
    expect(Date.now() - realStart).toBeLessThan(2_000);
  });

  it('jumps: advance() processes what happened in between, in order, with its own timestamps', async () => {
    const s = await start({ startTime: Date.parse('2026-01-05T08:00:00Z') });
    const t = s.seed.template({ name: 'dev' });
    s.seed.user({ username: 'bob' });
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) await create(s, 'bob', name, t.id);

    s.clock.advance(3 * JOB_MS);

    const jobs = jobsOf(s).filter((j) => j.templateId === t.id);
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
    expect(jobs.map((j) => new Date(j.completedAt ?? 0).toISOString().slice(11, 19))).toEqual([
      '08:01:00',
      '08:01:00',
      '08:02:00',
      '08:02:00',
      '08:03:00',
      '08:03:00',
    ]);
  });
});

describe('people', () => {
  it('arrive as a seeded Poisson stream; each one queue wait is recorded in simulated time', async () => {
    const s = await start({
      provisioners: { jobDuration: { kind: 'fixed', ms: JOB_MS }, pools: [{ name: 'pool', count: 1 }] },
    });
    s.seed.template({ name: 'mine' });
    const owners = ['ann', 'ben', 'cat'];
    for (const username of owners) {
      s.seed.user({ username });
      s.seed.workspace({ owner: username, name: 'own', template: 'mine', status: 'stopped' });
    }
    const people = s.provisioners?.startPeople({ perMinute: 2, owners, template: 'mine', seed: 7 });

    s.clock.advance(30 * 60_000);
    people?.stop();
    const figures = people?.figures();
    const now = s.clock.now();

    // About 60 arrivals in 30 minutes at 2 a minute; the one daemon runs one a minute, so a queue builds.
    expect(figures?.arrivals).toBeGreaterThan(40);
    expect(figures?.arrivals).toBeLessThan(80);
    const jobs = figures?.jobs ?? [];
    expect(jobs.filter((j) => j.kind === 'start').length).toBe(3);
    const { waitsMs, stillWaiting } = queueWaits(jobs, now);
    expect(waitsMs.length).toBe(jobs.length);
    expect(stillWaiting).toBeGreaterThan(0);
    expect(Math.max(...waitsMs)).toBeGreaterThan(5 * 60_000);
    expect(waitsMs.every((w) => w >= 0)).toBe(true);
  });
});

describe('job durations', () => {
  it('are reproducible under a seed and follow the distribution asked for', () => {
    const a = jobDurationSampler({ kind: 'lognormal', meanMs: 60_000, sigma: 0.3 }, 42);
    const b = jobDurationSampler({ kind: 'lognormal', meanMs: 60_000, sigma: 0.3 }, 42);
    const draws = Array.from({ length: 20_000 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(draws.slice(0, 5));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(Math.abs(mean - 60_000)).toBeLessThan(1_000);
    const uniform = jobDurationSampler({ kind: 'uniform', minMs: 45_000, maxMs: 75_000 }, 1);
    const u = Array.from({ length: 1000 }, () => uniform());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(45_000);
    expect(Math.max(...u)).toBeLessThanOrEqual(75_000);
  });
});
