import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoderFamilyWorkspaces, toOpError } from '../../../lambdas/adapters/coder/family-workspaces.js';
import { CoderApiError, CoderClient, CoderTimeoutError } from '../../../lambdas/adapters/coder/index.js';
import { NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import type { BuildParameter } from '../../../lambdas/core/families/model.js';

const call = { deadline: NO_DEADLINE };

import { type CoderSimulator, startCoderSimulator } from '../../../sim/index.js';

describe('CoderFamilyWorkspaces on the simulator', () => {
  let sim: CoderSimulator;
  let client: CoderClient;
  beforeEach(async () => {
    sim = await startCoderSimulator({ buildDurationMs: 60_000, rateLimit: false });
    sim.seed.user({ username: 'alice' });
    sim.seed.user({ username: 'bob' });
    sim.seed.template({ name: 'dev', parameters: [{ name: 'additional_workspaces', defaultValue: '0' }] });
    sim.seed.template({ name: 'other', parameters: [] });
    client = new CoderClient({
      baseUrl: sim.url,
      token: sim.adminToken,
      rateLimitPerMinute: false,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('lists only the managed templates, across pages, and one owner at a time', async () => {
    for (let i = 0; i < 7; i++)
      sim.seed.workspace({ owner: i % 2 ? 'alice' : 'bob', name: `w${i}`, template: 'dev' });
    sim.seed.workspace({ owner: 'alice', name: 'unmanaged', template: 'other' });
    const port = new CoderFamilyWorkspaces({
      client,
      templates: ['dev'],
      organization: 'default',
      pageSize: 3,
    });

    const managed = await port.listManagedWorkspaces(call);
    const owner = await port.listOwnerWorkspaces('alice', call);
    const [all, alice] = [managed.workspaces, owner.workspaces];

    expect(all.map((w) => w.name).sort()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
    expect(alice.map((w) => w.name).sort()).toEqual(['w1', 'w3', 'w5']);
    expect(all[0]?.latestBuild).toMatchObject({ number: 1, transition: 'start' });
    expect(managed.complete && owner.complete).toBe(true);
    expect(sim.requestCounts()['GET /api/v2/workspaces']).toBe(3 + 2);
  });

  it('reads each build’s parameters once: memory first, then the durable store, then Coder', async () => {
    const a = sim.seed.workspace({
      owner: 'alice',
      name: 'a',
      template: 'dev',
      parameters: { additional_workspaces: '2' },
    });
    const b = sim.seed.workspace({ owner: 'alice', name: 'b', template: 'dev' });
    const durable = new Map<string, BuildParameter[]>();
    const store = {
      getMany: async (ids: readonly string[]) =>
        new Map(ids.flatMap((id) => (durable.has(id) ? [[id, durable.get(id) ?? []] as const] : []))),
      putMany: async (entries: ReadonlyMap<string, readonly BuildParameter[]>) => {
        for (const [id, p] of entries) durable.set(id, [...p]);
      },
    };
    const warm = new CoderFamilyWorkspaces({
      client,
      templates: ['dev'],
      organization: 'default',
      parameterStore: store,
    });

    const first = await warm.buildParameters([a.latestBuildId, b.latestBuildId], call);
    await warm.buildParameters([a.latestBuildId, b.latestBuildId], call);
    const coldContainer = new CoderFamilyWorkspaces({
      client,
      templates: ['dev'],
      organization: 'default',
      parameterStore: store,
    });
    await coldContainer.buildParameters([a.latestBuildId], call);

    expect(first.get(a.latestBuildId)?.values).toContainEqual({ name: 'additional_workspaces', value: '2' });
    expect(sim.requestCounts()['GET /api/v2/workspacebuilds/{workspacebuild}/parameters']).toBe(2);
    expect(durable.size).toBe(2);
  });

  it('leaves out a build whose parameters cannot be read instead of guessing', async () => {
    const port = new CoderFamilyWorkspaces({ client, templates: ['dev'], organization: 'default' });
    expect((await port.buildParameters(['00000000-0000-0000-0000-000000000000'], call)).size).toBe(0);
  });

  it('creates, reads back by name and by id (deleted ones included), transitions, and knows its own user', async () => {
    const parent = sim.seed.workspace({ owner: 'alice', name: 'team', template: 'dev' });
    const port = new CoderFamilyWorkspaces({ client, templates: ['dev'], organization: 'default' });
    const [listed] = (await port.listManagedWorkspaces(call)).workspaces;
    const input = {
      organizationId: listed?.organizationId ?? '',
      ownerName: 'alice',
      name: 'team-1',
      templateId: listed?.templateId ?? '',
    };

    const created = await port.createWorkspace(
      { ...input, parameters: [{ name: 'additional_workspaces', value: '0' }] },
      call,
    );
    const again = port.createWorkspace({ ...input, parameters: [] }, call);

    await expect(again).rejects.toMatchObject({ kind: 'already_exists' });
    expect(await port.readWorkspace({ owner: 'alice', name: 'TEAM-1' }, call)).toMatchObject({
      state: 'present',
      workspace: { id: created.id },
    });
    expect(created.latestBuild.initiatorId).toBe(await port.controllerUserId(call));
    await expect(port.transition(created.id, 'stop', call)).rejects.toMatchObject({ kind: 'build_active' });
    sim.advanceBuilds();
    await port.transition(created.id, 'delete', call);
    // A delete in progress is not gone.
    expect(await port.readWorkspace({ id: created.id }, call)).toMatchObject({ state: 'present' });
    sim.advanceBuilds();
    expect(await port.readWorkspace({ id: created.id }, call)).toMatchObject({
      state: 'deleted',
      workspace: { ownerName: 'alice', name: 'team-1' },
    });
    expect(await port.readWorkspace({ owner: 'alice', name: 'team-1' }, call)).toMatchObject({
      state: 'deleted',
    });
    expect(await port.readWorkspace({ id: parent.id }, call)).toMatchObject({ state: 'present' });
    expect(await port.readWorkspace({ id: '00000000-0000-0000-0000-000000000000' }, call)).toEqual({
      state: 'vanished',
    });
    expect(await port.readWorkspace({ owner: 'alice', name: 'never-was' }, call)).toEqual({
      state: 'vanished',
    });
  });

  it('says a read failed (unreadable), never that a workspace is gone, when Coder cannot answer', async () => {
    const port = new CoderFamilyWorkspaces({ client, templates: ['dev'], organization: 'default' });
    const parent = sim.seed.workspace({ owner: 'alice', name: 'team', template: 'dev' });
    sim.setFaults({ errorRate: 1, routes: ['GET /api/v2/workspaces/{workspace}'], seed: 1 });
    expect(await port.readWorkspace({ id: parent.id }, call)).toMatchObject({ state: 'unreadable' });
  });

  it('names the templates Coder has, for the check that every configured one exists', async () => {
    const port = new CoderFamilyWorkspaces({ client, templates: ['dev'], organization: 'default' });
    expect((await port.templateNames(call)).sort()).toEqual(['dev', 'other']);
  });
});

describe('toOpError', () => {
  const api = (kind: CoderApiError['kind'], status: number) =>
    new CoderApiError('x', { kind, status, method: 'POST', route: '/r', attempts: 1 });
  it.each([
    [api('already_exists', 409), 'already_exists'],
    [api('build_active', 409), 'build_active'],
    [api('rate_limited', 429), 'transient'],
    [api('server', 503), 'transient'],
    [api('validation', 400), 'permanent'],
    [api('forbidden', 403), 'permanent'],
    [new CoderTimeoutError('t', { method: 'GET', route: '/r', attempts: 3, timeoutMs: 10 }), 'transient'],
    [new Error('?'), 'permanent'],
  ])('%s → %s', (error, kind) => {
    expect(toOpError(error).kind).toBe(kind);
  });
});
