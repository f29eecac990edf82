import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { api, eventually } from './http.js';

interface Ws {
  id: string;
  name: string;
  owner_name: string;
  template_name?: string;
  latest_build: {
    id: string;
    status: string;
    transition: string;
    job: { status: string };
    build_number: number;
  };
  autostart_schedule?: string;
  ttl_ms?: number;
  next_start_at: string | null;
}
interface WsList {
  workspaces: Ws[];
  count: number;
}
interface ErrBody {
  message: string;
  detail?: string;
  validations?: Array<{ field: string; detail: string }>;
}

describe('workspace search, listing and lookup', () => {
  let sim: CoderSimulator;
  let alice: { id: string; token: string };

  beforeAll(async () => {
    sim = await startCoderSimulator({ rateLimit: false });
    sim.seed.template({
      name: 'docker',
      parameters: [{ name: 'region', defaultValue: 'eu' }, { name: 'team' }],
    });
    sim.seed.template({ name: 'k8s' });
    alice = sim.seed.user({ username: 'alice' });
    sim.seed.user({ username: 'bob' });
    sim.seed.workspace({ owner: 'alice', name: 'dev-one', template: 'docker', parameters: { team: 'Red' } });
    sim.seed.workspace({
      owner: 'alice',
      name: 'dev-two',
      template: 'docker',
      parameters: { team: 'blue' },
      status: 'stopped',
    });
    sim.seed.workspace({ owner: 'bob', name: 'Build-Box', template: 'k8s' });
    sim.seed.workspace({
      owner: 'bob',
      name: 'alpha',
      template: 'docker',
      parameters: { team: 'red', region: 'us' },
      status: 'stopped',
    });
  });
  afterAll(() => sim.close());

  const names = async (q: string, token?: string): Promise<string[]> => {
    const res = await api<WsList>(sim, 'GET', `/api/v2/workspaces?q=${encodeURIComponent(q)}`, { token });
    expect(res.status).toBe(200);
    return res.body.workspaces.map((w) => `${w.owner_name}/${w.name}`);
  };

  it('orders running workspaces first, then by owner and name', async () => {
    expect(await names('')).toEqual(['alice/dev-one', 'bob/Build-Box', 'alice/dev-two', 'bob/alpha']);
  });

  it('filters by owner (exact, me), template, name substring, bare word, status and owner/name', async () => {
    expect(await names('owner:ALICE')).toEqual(['alice/dev-one', 'alice/dev-two']);
    expect(await names('owner:ali')).toEqual([]);
    expect(await names('owner:me')).toEqual([]);
    expect(await names('owner:me', alice.token)).toEqual(['alice/dev-one', 'alice/dev-two']);
    expect(await names('template:k8s')).toEqual(['bob/Build-Box']);
    expect(await names('name:dev')).toEqual(['alice/dev-one', 'alice/dev-two']);
    expect(await names('box')).toEqual(['bob/Build-Box']);
    expect(await names('status:stopped')).toEqual(['alice/dev-two', 'bob/alpha']);
    expect(await names('bob/alp')).toEqual(['bob/alpha']);
    expect(await names('template:docker status:running')).toEqual(['alice/dev-one']);
  });

  it('filters by latest-build parameters, case-insensitively and repeatably', async () => {
    expect(await names('param:team=red')).toEqual(['alice/dev-one', 'bob/alpha']);
    expect(await names('param:TEAM=RED param:region=us')).toEqual(['bob/alpha']);
    expect(await names('param:team')).toEqual(['alice/dev-one', 'alice/dev-two', 'bob/alpha']);
    expect(await names('param:nope')).toEqual([]);
  });

  it('filters by id list and organization', async () => {
    const all = sim.workspacesSnapshot();
    const a = all.find((w) => w.name === 'alpha');
    const b = all.find((w) => w.name === 'dev-one');
    expect(await names(`id:${a?.id},${b?.id}`)).toEqual(['alice/dev-one', 'bob/alpha']);
    expect(await names('organization:coder owner:bob')).toEqual(['bob/Build-Box', 'bob/alpha']);
    expect(await names('organization:elsewhere')).toEqual([]);
  });

  it('rejects unknown keys and bad statuses with validations', async () => {
    const res = await api<ErrBody>(sim, 'GET', `/api/v2/workspaces?q=${encodeURIComponent('colour:red')}`);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Invalid workspace search query.');
    expect(res.body.validations?.[0]?.field).toBe('colour');
    const bad = await api<ErrBody>(sim, 'GET', '/api/v2/workspaces?q=status:sleeping');
    expect(bad.status).toBe(400);
    expect(bad.body.validations?.[0]?.field).toBe('status');
  });

  it('shows non-owners only their own workspaces', async () => {
    expect(await names('', alice.token)).toEqual(['alice/dev-one', 'alice/dev-two']);
    const bobsId = sim.workspacesSnapshot().find((w) => w.name === 'alpha')?.id;
    const res = await api<ErrBody>(sim, 'GET', `/api/v2/workspaces/${bobsId}`, { token: alice.token });
    expect(res.status).toBe(404);
    expect(res.body.message).toBe('Resource not found or you do not have access to this resource');
  });

  it('gets a workspace by owner and name case-insensitively, and 404s otherwise', async () => {
    const res = await api<Ws>(sim, 'GET', '/api/v2/users/bob/workspace/build-box');
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Build-Box');
    expect((await api(sim, 'GET', '/api/v2/users/bob/workspace/nothing')).status).toBe(404);
    expect((await api(sim, 'GET', '/api/v2/users/me/workspace/dev-one', { token: alice.token })).status).toBe(
      200,
    );
  });

  it('serves build parameters as strings for the latest build', async () => {
    const ws = (await api<Ws>(sim, 'GET', '/api/v2/users/alice/workspace/dev-one')).body;
    const params = await api(sim, 'GET', `/api/v2/workspacebuilds/${ws.latest_build.id}/parameters`);
    expect(params.body).toEqual([
      { name: 'region', value: 'eu' },
      { name: 'team', value: 'Red' },
    ]);
    const stopped = (await api<Ws>(sim, 'GET', '/api/v2/users/alice/workspace/dev-two')).body;
    const builds = await api<Array<{ transition: string; build_number: number }>>(
      sim,
      'GET',
      `/api/v2/workspaces/${stopped.id}/builds`,
    );
    expect(builds.body.map((b) => [b.build_number, b.transition])).toEqual([
      [2, 'stop'],
      [1, 'start'],
    ]);
  });
});

describe('pagination over a large fleet', () => {
  let sim: CoderSimulator;
  beforeAll(async () => {
    sim = await startCoderSimulator({ rateLimit: false, record: false });
    sim.seed.template({ name: 'docker', parameters: [{ name: 'tier', defaultValue: 'a' }] });
    for (let u = 0; u < 30; u++) sim.seed.user({ username: `user${String(u).padStart(2, '0')}` });
    for (let i = 0; i < 3000; i++) {
      sim.seed.workspace({
        owner: `user${String(i % 30).padStart(2, '0')}`,
        name: `ws-${i}`,
        template: 'docker',
        status: i % 3 === 0 ? 'stopped' : 'running',
        parameters: { tier: i % 2 === 0 ? 'even' : 'odd' },
      });
    }
  });
  afterAll(() => sim.close());

  it('pages with limit/offset, counts ignoring paging, and limit=0 returns everything', async () => {
    const seen = new Set<string>();
    for (let offset = 0; ; offset += 500) {
      const res = await api<WsList>(sim, 'GET', `/api/v2/workspaces?limit=500&offset=${offset}`);
      expect(res.body.count).toBe(3000);
      if (res.body.workspaces.length === 0) break;
      for (const w of res.body.workspaces) seen.add(w.id);
    }
    expect(seen.size).toBe(3000);
    const all = await api<WsList>(sim, 'GET', '/api/v2/workspaces?limit=0');
    expect(all.body.workspaces).toHaveLength(3000);
    // Running ones (2000) come first.
    expect(all.body.workspaces.slice(0, 2000).every((w) => w.latest_build.status === 'running')).toBe(true);
    const filtered = await api<WsList>(
      sim,
      'GET',
      `/api/v2/workspaces?limit=10&q=${encodeURIComponent('param:tier=odd status:stopped')}`,
    );
    expect(filtered.body.count).toBe(500);
    expect(filtered.body.workspaces).toHaveLength(10);
  });

  it('rejects negative or non-numeric paging values', async () => {
    expect((await api(sim, 'GET', '/api/v2/workspaces?limit=-1')).status).toBe(400);
    expect((await api(sim, 'GET', '/api/v2/workspaces?offset=abc')).status).toBe(400);
  });
});

describe('creating workspaces', () => {
  let sim: CoderSimulator;
  let templateId: string;
  let versionId: string;
  const createPath = '/api/v2/organizations/default/members/alice/workspaces';

  beforeAll(async () => {
    sim = await startCoderSimulator({ rateLimit: false, buildDurationMs: 20, createRaceWindowMs: 30 });
    const t = sim.seed.template({
      name: 'docker',
      parameters: [
        {
          name: 'region',
          defaultValue: 'eu',
          options: [
            { name: 'EU', value: 'eu' },
            { name: 'US', value: 'us' },
          ],
        },
        { name: 'team' },
        { name: 'disk', type: 'number', defaultValue: '10', mutable: false },
      ],
    });
    templateId = t.id;
    versionId = t.activeVersionId;
    sim.seed.user({ username: 'alice' });
  });
  afterAll(() => sim.close());

  const create = (body: unknown) => api<Ws & ErrBody>(sim, 'POST', createPath, { body });

  it('creates with 201, a pending start build, the resolved parameters and an audit row', async () => {
    const res = await create({
      name: 'fresh',
      template_id: templateId,
      rich_parameter_values: [{ name: 'team', value: 'x' }],
      autostart_schedule: 'CRON_TZ=Europe/London 30 8 * * 1-5',
      ttl_ms: 3_600_000,
    });
    expect(res.status).toBe(201);
    expect(res.body.latest_build.transition).toBe('start');
    expect(res.body.latest_build.status).toBe('pending');
    expect(res.body.autostart_schedule).toBe('CRON_TZ=Europe/London 30 8 * * 1-5');
    expect(res.body.ttl_ms).toBe(3_600_000);
    expect(res.body.next_start_at).toMatch(/^\d{4}-/);
    const params = await api(sim, 'GET', `/api/v2/workspacebuilds/${res.body.latest_build.id}/parameters`);
    expect(params.body).toEqual([
      { name: 'region', value: 'eu' },
      { name: 'team', value: 'x' },
      { name: 'disk', value: '10' },
    ]);
    const audit = await api<{ audit_logs: Array<{ action: string; resource_id: string }> }>(
      sim,
      'GET',
      `/api/v2/audit?q=${encodeURIComponent(`resource_type:workspace action:create resource_id:${res.body.id}`)}`,
    );
    expect(audit.body.audit_logs).toHaveLength(1);
  });

  it('also creates through /users/{user}/workspaces and by template_version_id; omits unset schedule and ttl', async () => {
    const res = await api<Ws>(sim, 'POST', '/api/v2/users/alice/workspaces', {
      body: {
        name: 'by-version',
        template_version_id: versionId,
        rich_parameter_values: [{ name: 'team', value: 'y' }],
      },
    });
    expect(res.status).toBe(201);
    expect('autostart_schedule' in res.body).toBe(false);
    expect('ttl_ms' in res.body).toBe(false);
    expect(res.body.next_start_at).toBeNull();
  });

  it.each([
    ['', 'required'],
    ['has_underscore', 'workspace_name'],
    ['-leading', 'workspace_name'],
    ['double--hyphen', 'workspace_name'],
    ['a'.repeat(33), 'workspace_name'],
    ['new', 'workspace_name'],
    ['CREATE', 'workspace_name'],
  ])('rejects the name %j with 400 and a name validation', async (name, tag) => {
    const res = await create({
      name,
      template_id: templateId,
      rich_parameter_values: [{ name: 'team', value: 'x' }],
    });
    expect(res.status).toBe(400);
    expect(res.body.message).toBe('Validation failed.');
    expect(res.body.validations?.[0]?.field).toBe('name');
    expect(res.body.validations?.[0]?.detail).toContain(`"${tag}"`);
  });

  it('accepts a 32-character name', async () => {
    const res = await create({
      name: 'b'.repeat(32),
      template_id: templateId,
      rich_parameter_values: [{ name: 'team', value: 'x' }],
    });
    expect(res.status).toBe(201);
  });

  it('needs exactly one of template_id and template_version_id, and a known template', async () => {
    expect((await create({ name: 'neither' })).status).toBe(400);
    expect(
      (await create({ name: 'both', template_id: templateId, template_version_id: versionId })).status,
    ).toBe(400);
    const unknown = await create({ name: 'unknown', template_id: '7d1c5c9e-2f7e-4b7a-9d0e-5c1f2a3b4c5d' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.validations?.[0]?.field).toBe('template_id');
  });

  it('rejects missing required parameters and values outside the options from the build step', async () => {
    const missing = await create({ name: 'no-team', template_id: templateId });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('team');
    const badOption = await create({
      name: 'bad-region',
      template_id: templateId,
      rich_parameter_values: [
        { name: 'team', value: 'x' },
        { name: 'region', value: 'mars' },
      ],
    });
    expect(badOption.status).toBe(400);
  });

  it('rejects a bad schedule and a bad ttl', async () => {
    const base = { template_id: templateId, rich_parameter_values: [{ name: 'team', value: 'x' }] };
    const schedule = await create({ ...base, name: 'bad-cron', autostart_schedule: '30 8 1 * *' });
    expect(schedule.status).toBe(400);
    expect(schedule.body.validations?.[0]?.field).toBe('schedule');
    const ttl = await create({ ...base, name: 'bad-ttl', ttl_ms: 30_000 });
    expect(ttl.status).toBe(400);
    expect(ttl.body.validations?.[0]?.field).toBe('ttl_ms');
  });

  it('answers 409 for a taken name, case-insensitively per owner', async () => {
    const body = { template_id: templateId, rich_parameter_values: [{ name: 'team', value: 'x' }] };
    expect((await create({ ...body, name: 'taken' })).status).toBe(201);
    const dup = await create({ ...body, name: 'TAKEN' });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toBe('Workspace "TAKEN" already exists.');
    expect(dup.body.validations).toEqual([
      { field: 'name', detail: 'This value is already in use and should be unique.' },
    ]);
    // Another owner may use the same name.
    const other = await api(sim, 'POST', '/api/v2/users/admin/workspaces', {
      body: { ...body, name: 'taken' },
    });
    expect(other.status).toBe(201);
  });

  it('lets two racing creates both pass the check; the loser hits the unique index (500)', async () => {
    const body = {
      name: 'racer',
      template_id: templateId,
      rich_parameter_values: [{ name: 'team', value: 'x' }],
    };
    const [a, b] = await Promise.all([create(body), create(body)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(201);
    expect([409, 500]).toContain(statuses[1]);
    const loser = a.status === 201 ? b : a;
    if (loser.status === 500) {
      expect(loser.body.detail).toContain(
        'duplicate key value violates unique constraint "workspaces_owner_id_lower_idx"',
      );
    }
    expect(sim.workspacesSnapshot().filter((w) => w.name === 'racer')).toHaveLength(1);
  });
});

describe('builds', () => {
  let sim: CoderSimulator;
  let wsId: string;

  beforeAll(async () => {
    sim = await startCoderSimulator({ rateLimit: false, buildDurationMs: 400 });
    sim.seed.template({
      name: 'docker',
      parameters: [
        { name: 'size', defaultValue: 's' },
        { name: 'disk', defaultValue: '10', mutable: false },
      ],
    });
    sim.seed.user({ username: 'carol' });
    wsId = sim.seed.workspace({ owner: 'carol', name: 'box', template: 'docker' }).id;
  });
  afterAll(() => sim.close());

  const getWs = () => api<Ws>(sim, 'GET', `/api/v2/workspaces/${wsId}`).then((r) => r.body);
  const build = (body: unknown) =>
    api<Ws['latest_build'] & ErrBody>(sim, 'POST', `/api/v2/workspaces/${wsId}/builds`, { body });

  it('goes pending -> running -> succeeded and answers 409 while the job is active', async () => {
    const stop = await build({ transition: 'stop' });
    expect(stop.status).toBe(201);
    expect(stop.body.job.status).toBe('pending');
    expect((await getWs()).latest_build.status).toBe('pending');
    const again = await build({ transition: 'start' });
    expect(again.status).toBe(409);
    expect(again.body.message).toBe('A workspace build is already active.');
    await eventually(getWs, (w) => w.latest_build.status === 'stopping', 2000);
    const done = await eventually(getWs, (w) => w.latest_build.status === 'stopped', 2000);
    expect(done.latest_build.job.status).toBe('succeeded');
    const single = await api<{ status: string }>(sim, 'GET', `/api/v2/workspacebuilds/${stop.body.id}`);
    expect(single.body.status).toBe('stopped');
  });

  it('merges rich_parameter_values over the previous build and refuses to change immutable ones', async () => {
    const refused = await build({
      transition: 'start',
      rich_parameter_values: [{ name: 'disk', value: '20' }],
    });
    expect(refused.status).toBe(400);
    const started = await build({
      transition: 'start',
      rich_parameter_values: [{ name: 'size', value: 'xl' }],
    });
    expect(started.status).toBe(201);
    sim.advanceBuilds();
    expect((await getWs()).latest_build.status).toBe('running');
    const params = await api(sim, 'GET', `/api/v2/workspacebuilds/${started.body.id}/parameters`);
    expect(params.body).toEqual([
      { name: 'size', value: 'xl' },
      { name: 'disk', value: '10' },
    ]);
  });

  it('rejects an unknown transition with a validation', async () => {
    const res = await build({ transition: 'reboot' });
    expect(res.status).toBe(400);
    expect(res.body.validations?.[0]?.field).toBe('transition');
  });

  it('deletes: the workspace vanishes from lists, gives 410 by id, and refuses start/stop', async () => {
    const del = await build({ transition: 'delete' });
    expect(del.status).toBe(201);
    sim.advanceBuilds();
    const gone = await api<ErrBody>(sim, 'GET', `/api/v2/workspaces/${wsId}`);
    expect(gone.status).toBe(410);
    const withDeleted = await api<Ws>(sim, 'GET', `/api/v2/workspaces/${wsId}?include_deleted=true`);
    expect(withDeleted.status).toBe(200);
    expect(withDeleted.body.latest_build.status).toBe('deleted');
    const list = await api<WsList>(sim, 'GET', '/api/v2/workspaces?q=owner:carol');
    expect(list.body.count).toBe(0);
    expect((await api(sim, 'GET', '/api/v2/users/carol/workspace/box')).status).toBe(404);
    expect((await api(sim, 'GET', '/api/v2/users/carol/workspace/box?include_deleted=true')).status).toBe(
      200,
    );
    const start = await build({ transition: 'start' });
    expect(start.status).toBe(409);
    expect(start.body.message).toBe('Cannot start a deleted workspace!');
    // The name is free again once the old workspace is deleted.
    const t = sim.workspacesSnapshot({ includeDeleted: true }).find((w) => w.id === wsId);
    expect(t?.deleted).toBe(true);
    const audit = await api<{ audit_logs: Array<{ action: string }> }>(
      sim,
      'GET',
      '/api/v2/audit?q=resource_type:workspace_build',
    );
    expect(audit.body.audit_logs.map((r) => r.action)).toEqual(['delete', 'start', 'stop']);
  });

  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    expect((await api(sim, 'GET', '/api/v2/workspaces/not-a-uuid')).status).toBe(400);
    expect((await api(sim, 'GET', '/api/v2/workspaces/7d1c5c9e-2f7e-4b7a-9d0e-5c1f2a3b4c5d')).status).toBe(
      404,
    );
  });
});

describe('renaming workspaces and templates', () => {
  const setup = async (allowWorkspaceRenames?: boolean) => {
    const sim = await startCoderSimulator({
      buildDurationMs: 10,
      ...(allowWorkspaceRenames === undefined ? {} : { allowWorkspaceRenames }),
    });
    const template = sim.seed.template({ name: 'dev' });
    sim.seed.template({ name: 'gpu' });
    const dana = sim.seed.user({ username: 'dana' });
    const a = sim.seed.workspace({ owner: 'dana', name: 'alpha', template: 'dev' });
    sim.seed.workspace({ owner: 'dana', name: 'beta', template: 'dev' });
    return { sim, template, dana, a };
  };

  it("refuses workspace renames unless the deployment allows them (Coder's default)", async () => {
    const { sim, a } = await setup();
    try {
      const res = await api<ErrBody>(sim, 'PATCH', `/api/v2/workspaces/${a.id}`, { body: { name: 'gamma' } });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe('Workspace renames are not allowed.');
      // The same name, or none, changes nothing and is not a rename.
      expect(
        (await api(sim, 'PATCH', `/api/v2/workspaces/${a.id}`, { body: { name: 'alpha' } })).status,
      ).toBe(204);
    } finally {
      await sim.close();
    }
  });

  it('renames a workspace (moving it in the list order), and answers 409 for a name the owner uses', async () => {
    const { sim, a, dana } = await setup(true);
    try {
      const renamed = await api(sim, 'PATCH', `/api/v2/workspaces/${a.id}`, {
        body: { name: 'zeta' },
        token: dana.token,
      });
      expect(renamed.status).toBe(204);
      const list = await api<WsList>(sim, 'GET', '/api/v2/workspaces?q=owner:dana');
      expect(list.body.workspaces.map((w) => w.name)).toEqual(['beta', 'zeta']);
      const taken = await api<ErrBody>(sim, 'PATCH', `/api/v2/workspaces/${a.id}`, {
        body: { name: 'BETA' },
      });
      expect(taken.status).toBe(409);
      const bad = await api<ErrBody>(sim, 'PATCH', `/api/v2/workspaces/${a.id}`, {
        body: { name: 'no_good' },
      });
      expect(bad.status).toBe(400);
      expect((await api(sim, 'GET', '/api/v2/users/dana/workspace/zeta')).status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it('renames a template: its workspaces show the new name and match template:<new name> only', async () => {
    const { sim, template, dana } = await setup();
    try {
      const res = await api<{ name: string }>(sim, 'PATCH', `/api/v2/templates/${template.id}`, {
        body: { name: 'Dev-Two' },
      });
      expect(res.status).toBe(200);
      expect(res.body.name).toBe('dev-two');
      const byNew = await api<WsList>(sim, 'GET', '/api/v2/workspaces?q=template:DEV-TWO');
      expect(byNew.body.count).toBe(2);
      expect(byNew.body.workspaces.map((w) => w.template_name)).toEqual(['dev-two', 'dev-two']);
      expect((await api<WsList>(sim, 'GET', '/api/v2/workspaces?q=template:dev')).body.count).toBe(0);
      const taken = await api<ErrBody>(sim, 'PATCH', `/api/v2/templates/${template.id}`, {
        body: { name: 'GPU' },
      });
      expect(taken.status).toBe(409);
      expect(taken.body.message).toBe('Template with name "GPU" already exists.');
      const notAdmin = await api(sim, 'PATCH', `/api/v2/templates/${template.id}`, {
        body: { name: 'mine' },
        token: dana.token,
      });
      expect(notAdmin.status).toBe(403);
    } finally {
      await sim.close();
    }
  });
});
