/**
 * Renames in the simulator, as coderd does them: a workspace by its owner (coderd/workspaces.go
 * patchWorkspace, only with CODER_ALLOW_WORKSPACE_RENAMES), a template by an admin
 * (coderd/templates.go patchTemplateMeta). And what a rename does to a paged list read in
 * Coder's order: the race the controller's list reader must notice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { api } from './http.js';

interface WsList {
  workspaces: Array<{ id: string; name: string; template_name: string }>;
  count: number;
}

describe('renames', () => {
  let sim: CoderSimulator;
  afterEach(() => sim.close());

  it('renames a workspace only where the deployment allows it; a taken name is 409', async () => {
    sim = await startCoderSimulator({ rateLimit: false });
    sim.seed.template({ name: 'dev' });
    const alice = sim.seed.user({ username: 'alice' });
    const a = sim.seed.workspace({ owner: 'alice', name: 'a', template: 'dev' });
    sim.seed.workspace({ owner: 'alice', name: 'b', template: 'dev' });

    const refused = await api<{ message: string }>(sim, 'PATCH', `/api/v2/workspaces/${a.id}`, {
      token: alice.token,
      body: { name: 'c' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toBe('Workspace renames are not allowed.');

    await sim.close();
    sim = await startCoderSimulator({ rateLimit: false, allowWorkspaceRenames: true });
    sim.seed.template({ name: 'dev' });
    const owner = sim.seed.user({ username: 'alice' });
    const x = sim.seed.workspace({ owner: 'alice', name: 'x', template: 'dev' });
    sim.seed.workspace({ owner: 'alice', name: 'y', template: 'dev' });
    const taken = await api(sim, 'PATCH', `/api/v2/workspaces/${x.id}`, {
      token: owner.token,
      body: { name: 'Y' },
    });
    expect(taken.status).toBe(409);
    const renamed = await api(sim, 'PATCH', `/api/v2/workspaces/${x.id}`, {
      token: owner.token,
      body: { name: 'z' },
    });
    expect(renamed.status).toBe(204);
    const byId = await api<{ name: string }>(sim, 'GET', `/api/v2/workspaces/${x.id}`);
    expect(byId.body.name).toBe('z');
  });

  it('renames a template: its workspaces leave a search by the old name', async () => {
    sim = await startCoderSimulator({ rateLimit: false });
    const t = sim.seed.template({ name: 'kubernetes-multi' });
    sim.seed.template({ name: 'other' });
    sim.seed.user({ username: 'alice' });
    sim.seed.workspace({ owner: 'alice', name: 'a', template: 'kubernetes-multi' });

    expect((await api(sim, 'PATCH', `/api/v2/templates/${t.id}`, { body: { name: 'other' } })).status).toBe(
      409,
    );
    const renamed = await api<{ name: string }>(sim, 'PATCH', `/api/v2/templates/${t.id}`, {
      body: { name: 'k8s-multi' },
    });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'k8s-multi' } });
    const old = await api<WsList>(sim, 'GET', '/api/v2/workspaces?q=template:kubernetes-multi');
    const now = await api<WsList>(sim, 'GET', '/api/v2/workspaces?q=template:k8s-multi');
    expect(old.body.count).toBe(0);
    expect(now.body.workspaces.map((w) => [w.name, w.template_name])).toEqual([['a', 'k8s-multi']]);
  });

  it('a stop between two page reads moves a row across the page boundary: one row is skipped, one repeats', async () => {
    // Coder lists running workspaces first (coderd/database/queries/workspaces.sql, GetWorkspaces).
    sim = await startCoderSimulator({ rateLimit: false, buildDurationMs: 0 });
    sim.seed.template({ name: 'dev' });
    const alice = sim.seed.user({ username: 'alice' });
    const seeded = Array.from({ length: 4 }, (_, i) =>
      sim.seed.workspace({ owner: 'alice', name: `w${i}`, template: 'dev' }),
    );
    const page = async (offset: number) =>
      (await api<WsList>(sim, 'GET', `/api/v2/workspaces?q=template:dev&limit=2&offset=${offset}`)).body;

    const first = await page(0);
    // The owner stops the first workspace of page 1: it moves behind every running one.
    await api(sim, 'POST', `/api/v2/workspaces/${seeded[0]?.id}/builds`, {
      token: alice.token,
      body: { transition: 'stop' },
    });
    sim.advanceBuilds();
    const second = await page(2);

    const seen = [...first.workspaces, ...second.workspaces].map((w) => w.name);
    expect(first.count).toBe(second.count);
    expect(seen).toEqual(['w0', 'w1', 'w3', 'w0']);
    expect(seen).not.toContain('w2');
  });
});
