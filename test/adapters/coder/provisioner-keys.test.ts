import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoderClient } from '../../../lambdas/adapters/coder/index.js';
import { CoderProvisionerKeyDirectory } from '../../../lambdas/adapters/coder/provisioner-keys.js';
import { NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import { type CoderSimulator, startCoderSimulator } from '../../../sim/index.js';

/** A call with no deadline of its own, for the tests' own look at Coder. */
const call = { deadline: NO_DEADLINE };

describe('CoderProvisionerKeyDirectory over the simulator', () => {
  let sim: CoderSimulator;
  let keys: CoderProvisionerKeyDirectory;

  beforeEach(async () => {
    sim = await startCoderSimulator({ buildDurationMs: 1 });
    keys = new CoderProvisionerKeyDirectory(
      new CoderClient({
        baseUrl: sim.url,
        token: sim.adminToken,
        rateLimitPerMinute: false,
        sleep: async () => {},
      }),
    );
  });
  afterEach(() => sim.close());

  it('creates a key with tags, shows its plaintext once, and lists it without the secret', async () => {
    const created = await keys.createKey(
      'coder',
      { name: 'cfc-rot-a', tags: { scope: 'organization' } },
      call,
    );

    expect(created.outcome).toBe('created');
    const listed = await keys.listKeys('coder', call);
    expect(listed).toEqual([
      {
        id: expect.any(String),
        name: 'cfc-rot-a',
        createdAt: expect.any(Date),
        tags: { scope: 'organization' },
      },
    ]);
    if (created.outcome === 'created') expect(JSON.stringify(listed)).not.toContain(created.key);
  });

  it('reports a taken name (case-insensitively) instead of failing', async () => {
    await keys.createKey('coder', { name: 'cfc-rot-a', tags: {} }, call);

    expect(await keys.createKey('coder', { name: 'CFC-ROT-A', tags: {} }, call)).toEqual({
      outcome: 'name_taken',
    });
  });

  it('deletes a key, and says so when it is already gone', async () => {
    await keys.createKey('coder', { name: 'cfc-rot-a', tags: {} }, call);

    expect(await keys.deleteKey('coder', 'cfc-rot-a', call)).toBe('deleted');
    expect(await keys.deleteKey('coder', 'cfc-rot-a', call)).toBe('not_found');
    expect(await keys.listKeys('coder', call)).toEqual([]);
  });

  it('identifies a key from the key itself, sent only in the header', async () => {
    const created = await keys.createKey('coder', { name: 'cfc-rot-a', tags: {} }, call);
    if (created.outcome !== 'created') throw new Error('not created');
    sim.clearExchanges();

    expect(await keys.identifyKey(created.key, call)).toEqual({ id: expect.any(String), name: 'cfc-rot-a' });
    expect(await keys.identifyKey('x'.repeat(43), call)).toBeUndefined();
    expect(await keys.identifyKey('short', call)).toBeUndefined();
    const lookup = sim
      .exchanges()
      .find((e) => e.requestHeaders['coder-provisioner-daemon-key'] === created.key);
    expect(lookup?.route).toBe('/api/v2/provisionerkeys/{provisionerkey}');
    expect(lookup?.path).not.toContain(created.key);
    expect(lookup?.requestHeaders['coder-session-token']).toBeUndefined();
  });

  it('joins connected daemons per key with every daemon last-seen time, including offline ones', async () => {
    sim.seed.provisionerKey({ name: 'cfc-rot-a', tags: {} });
    sim.seed.provisionerDaemon({ name: 'online', keyName: 'cfc-rot-a' });
    const lastSeen = new Date(Date.now() - 2 * 3_600_000).toISOString();
    sim.seed.provisionerDaemon({
      name: 'gone',
      keyName: 'cfc-rot-a',
      status: 'offline',
      lastSeenAt: lastSeen,
    });
    sim.seed.provisionerDaemon({ name: 'user-daemon', keyName: 'user-auth' });

    const daemons = await keys.listDaemons('coder', call);

    const byName = Object.fromEntries(daemons.map((d) => [d.name, d]));
    expect(byName.online).toMatchObject({ keyName: 'cfc-rot-a', connected: true });
    expect(byName.gone).toMatchObject({
      keyName: 'cfc-rot-a',
      connected: false,
      lastSeenAt: new Date(lastSeen),
    });
    expect(byName['user-daemon']).toMatchObject({ keyName: 'user-auth', connected: true });
  });
});

describe('CoderProvisionerKeyDirectory at the end of its invocation', () => {
  it('sends nothing once the time is up and stops with a deadline error (the rotation step is retried)', async () => {
    const sim = await startCoderSimulator({
      buildDurationMs: 1,
      faults: { rateLimitBurst: 1, rateLimitBurstRetryAfterSeconds: 60 },
    });
    try {
      let left = 30_000;
      const call = { deadline: { remainingMs: () => left } };
      const keys = new CoderProvisionerKeyDirectory(
        new CoderClient({ baseUrl: sim.url, token: sim.adminToken }),
      );
      // A 60 s Retry-After with 30 s left: no sleep past the deadline, nothing created.
      await expect(keys.createKey('coder', { name: 'cfc-rot-b', tags: {} }, call)).rejects.toMatchObject({
        kind: 'deadline',
        step: 'retry-after',
      });
      left = 0;
      const before = sim.totalRequests();
      await expect(keys.listKeys('coder', call)).rejects.toMatchObject({ kind: 'deadline', step: 'send' });
      expect(sim.totalRequests()).toBe(before);
    } finally {
      await sim.close();
    }
  });
});
