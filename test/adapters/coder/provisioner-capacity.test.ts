/**
 * CoderProvisionerCapacity against the simulator's provisioner queue over HTTP, at every supported
 * Coder release profile (the controller's jobs are found by `initiator` from coder/coder#20137 on,
 * by `initiator_id` before), plus the cases only a stand-in client can produce.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CoderClient, coderReleaseOf, type ProvisionerJob } from '../../../lambdas/adapters/coder/index.js';
import {
  CoderProvisionerCapacity,
  organizationJobTags,
  provisionerTagsetContains,
} from '../../../lambdas/adapters/coder/provisioner-capacity.js';
import { type CoderSimulator, SUPPORTED_PROFILES, startCoderSimulator } from '../../../sim/index.js';

const JOB_MS = 60_000;

describe.each(SUPPORTED_PROFILES)(
  'CoderProvisionerCapacity against the simulator at Coder %s',
  (coderVersion) => {
    let sim: CoderSimulator;
    afterEach(() => sim.close());

    /** 3 untagged daemons, 1 tagged `pool=a`, 2 in another organization; two managed templates. */
    const deployment = async () => {
      sim = await startCoderSimulator({
        coderVersion,
        rateLimit: false,
        provisioners: {
          jobDuration: { kind: 'fixed', ms: JOB_MS },
          pools: [
            { name: 'plain', count: 3 },
            { name: 'tagged', tags: { pool: 'a' }, count: 1 },
          ],
        },
      });
      sim.seed.organization({ name: 'other' });
      sim.provisioners?.setPool({ name: 'elsewhere', organization: 'other', count: 2 });
      const plain = sim.seed.template({ name: 'team-dev' });
      sim.seed.template({ name: 'gpu-dev', provisionerTags: { pool: 'a' } });
      sim.seed.template({ name: 'unmanaged' });
      const bob = sim.seed.user({ username: 'bob' });
      const client = new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false });
      const capacity = new CoderProvisionerCapacity({
        client,
        organization: 'default',
        templates: ['team-dev', 'GPU-dev', 'gone-dev'],
        now: () => sim.clock.now(),
      });
      const create = async (owner: string, name: string, token: string) => {
        const res = await fetch(`${sim.url}/api/v2/users/${owner}/workspaces`, {
          method: 'POST',
          headers: { 'Coder-Session-Token': token, 'Content-Type': 'application/json' },
          body: JSON.stringify({ name, template_id: plain.id }),
        });
        expect(res.status).toBe(201);
      };
      return { client, capacity, create, bob };
    };

    it("counts the daemons able to take each template's jobs, the controller's jobs, and the queue people wait in", async () => {
      // Prepare: the controller (admin) queues 5 builds on 3 daemons, then bob queues his own.
      const { capacity, create, bob } = await deployment();
      for (let i = 1; i <= 5; i++) await create('bob', `child-${i}`, sim.adminToken);
      sim.clock.advance(10_000);
      await create('bob', 'mine', bob.token);
      sim.clock.advance(5_000);

      // Act
      const read = await capacity.read();

      // Assess
      expect(read.templates).toEqual([
        {
          template: 'team-dev',
          tags: { scope: 'organization', owner: '' },
          onlineDaemons: 3,
          busyDaemons: 3,
          tagsExact: true,
        },
        {
          template: 'gpu-dev',
          tags: { pool: 'a', scope: 'organization', owner: '' },
          onlineDaemons: 1,
          busyDaemons: 0,
          tagsExact: true,
        },
      ]);
      expect([read.onlineDaemons, read.busyDaemons]).toEqual([4, 3]);
      expect(read.controllerJobs).toEqual({ pending: 2, running: 3, complete: true });
      expect(read.queued).toBe(3);
      expect(read.othersOldestPendingMs).toBeGreaterThanOrEqual(5_000);
      expect(read.othersOldestPendingMs).toBeLessThan(6_000);
      expect(read.oldestPendingMs).toBeGreaterThanOrEqual(15_000);
      expect(read.queueSampled).toBe(false);
    });

    it('sees no daemon for the templates once their pool is scaled to 0 and its daemons are stale', async () => {
      const { capacity, create } = await deployment();
      await create('bob', 'night', sim.adminToken);
      sim.provisioners?.setPool({ name: 'plain', count: 0 });
      sim.clock.advance(JOB_MS + 91_000);

      const read = await capacity.read();

      expect(read.templates.find((t) => t.template === 'team-dev')?.onlineDaemons).toBe(0);
      expect(read.controllerJobs).toEqual({ pending: 0, running: 0, complete: true });
      await create('bob', 'queued', sim.adminToken);
      const later = await capacity.read();
      expect(later.controllerJobs?.pending).toBe(1);
      expect(later.templates.find((t) => t.template === 'team-dev')?.onlineDaemons).toBe(0);
    });

    it('costs four requests a run once warm; template versions are read once', async () => {
      const { capacity, client } = await deployment();
      await capacity.read();
      const before = client.stats();

      await capacity.read();

      const after = client.stats();
      expect(after.requests - before.requests).toBe(4);
    });

    it('says when the controller has more active jobs than one read lists', async () => {
      const { client, create } = await deployment();
      for (let i = 1; i <= 5; i++) await create('bob', `c-${i}`, sim.adminToken);
      const small = new CoderProvisionerCapacity({
        client,
        organization: 'default',
        templates: ['team-dev'],
        controllerJobsLimit: 4,
        pendingSample: 1,
        now: () => sim.clock.now(),
      });

      const read = await small.read();

      expect(read.controllerJobs?.complete).toBe(false);
      expect(read.queueSampled).toBe(true);
      expect(read.queued).toBe(2);
    });
  },
);

describe('CoderProvisionerCapacity with a Coder that cannot say whose a job is', () => {
  it('reports the controller jobs as unknown rather than guessing', async () => {
    const job = (status: ProvisionerJob['status']): ProvisionerJob => ({
      id: crypto.randomUUID(),
      status,
      created_at: new Date(1_000).toISOString(),
      queue_size: 1,
    });
    const capacity = new CoderProvisionerCapacity({
      organization: 'default',
      templates: ['team-dev'],
      now: () => 61_000,
      controllerUserId: async () => 'me',
      client: {
        release: async () => coderReleaseOf('v2.25.0'),
        capability: async (name) => coderReleaseOf('v2.25.0').capabilities[name],
        me: async () => {
          throw new Error('not used');
        },
        listTemplates: async () => [
          { id: 't', name: 'team-dev', organization_id: 'o', active_version_id: 'v' },
        ],
        getTemplateVersion: async () => ({ id: 'v', job: { id: 'j', status: 'succeeded', tags: null } }),
        listProvisionerDaemons: async () => [
          { id: 'd', name: 'd', status: 'idle', tags: { scope: 'organization', owner: '' } },
        ],
        listProvisionerJobs: async () => [job('pending'), job('running')],
      },
    });

    const read = await capacity.read();

    expect(read.controllerJobs).toBeUndefined();
    expect(read.othersOldestPendingMs).toBeUndefined();
    expect(read.oldestPendingMs).toBe(60_000);
    expect(read.templates[0]?.onlineDaemons).toBe(1);
  });
});

describe("CoderProvisionerCapacity within the run's deadline", () => {
  it("reads the controller's own user within the deadline it was handed, like every other call", async () => {
    // Prepare: a stand-in client that records the deadline each call carries.
    const deadline = { remainingMs: () => 42_000 };
    const seen: Array<[string, unknown]> = [];
    const record = <T>(name: string, options: { deadline?: unknown } | undefined, value: T): T => {
      seen.push([name, options?.deadline]);
      return value;
    };
    const capacity = new CoderProvisionerCapacity({
      organization: 'default',
      templates: ['team-dev'],
      client: {
        release: async () => coderReleaseOf('v2.25.0'),
        capability: async (name, options) =>
          record('capability', options, coderReleaseOf('v2.25.0').capabilities[name]),
        me: async (options) => record('me', options, { id: 'me', username: 'controller' } as never),
        listTemplates: async (_org, options) => record('listTemplates', options, []),
        getTemplateVersion: async () => {
          throw new Error('not used');
        },
        listProvisionerDaemons: async (_org, options) => record('listProvisionerDaemons', options, []),
        listProvisionerJobs: async (_org, options) => record('listProvisionerJobs', options, []),
      },
    });

    // Act
    await capacity.read({ deadline });

    // Assess: users/me too (it used to go out with no deadline at all).
    expect(seen.map(([name]) => name)).toContain('me');
    for (const [name, carried] of seen) expect([name, carried]).toEqual([name, deadline]);
  });
});

describe('tag matching', () => {
  it.each([
    [{ scope: 'organization', owner: '' }, {}, true],
    [{ scope: 'organization', owner: '', pool: 'a' }, {}, false],
    [{ scope: 'organization', owner: '', pool: 'a', zone: 'x' }, { pool: 'a' }, true],
    [{ scope: 'organization', owner: '', zone: 'x' }, { pool: 'a' }, false],
  ])('daemon %j takes a job of template tags %j: %s', (daemon, template, expected) => {
    expect(provisionerTagsetContains(daemon, organizationJobTags(template))).toBe(expected);
  });
});
