import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { api } from './http.js';

interface Key {
  id: string;
  name: string;
  organization: string;
  tags: Record<string, string>;
}
interface Daemon {
  name: string;
  key_name: string;
  status: string;
  tags: Record<string, string>;
}

const keysPath = '/api/v2/organizations/default/provisionerkeys';

describe('provisioner keys', () => {
  let sim: CoderSimulator;
  beforeAll(async () => {
    sim = await startCoderSimulator({ rateLimit: false });
  });
  afterAll(() => sim.close());

  it('creates a key with a 43-character url-safe secret shown once; the list never shows secrets', async () => {
    const created = await api<{ key: string }>(sim, 'POST', keysPath, {
      body: { name: 'fleet-a', tags: { pool: 'a' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const list = await api<Key[]>(sim, 'GET', keysPath);
    expect(list.status).toBe(200);
    expect(list.body.map((k) => k.name)).toEqual(['fleet-a']);
    expect(list.body[0]?.tags).toEqual({ pool: 'a' });
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    expect(Object.keys(list.body[0] ?? {}).sort()).toEqual([
      'created_at',
      'id',
      'name',
      'organization',
      'tags',
    ]);
  });

  it.each([
    [{ name: '' }, 400],
    [{ name: 'x'.repeat(65) }, 400],
    [{ name: 'built-in' }, 400],
    [{ name: 'User-Auth' }, 400],
    [{ name: 'PSK' }, 400],
    [{ name: 'x'.repeat(64) }, 201],
    [{ name: 'any chars !@#' }, 201],
  ])('create %j -> %i', async (body, status) => {
    expect((await api(sim, 'POST', keysPath, { body })).status).toBe(status);
  });

  it('answers 409 for a duplicate name, case-insensitively', async () => {
    expect((await api(sim, 'POST', keysPath, { body: { name: 'dup' } })).status).toBe(201);
    const res = await api<{ message: string }>(sim, 'POST', keysPath, { body: { name: 'DUP' } });
    expect(res.status).toBe(409);
  });

  it('returns key details only through the Coder-Provisioner-Daemon-Key header; the path is ignored', async () => {
    const secret = (
      await api<{ key: string }>(sim, 'POST', keysPath, { body: { name: 'lookup', tags: { t: '1' } } })
    ).body.key;
    const ok = await api<Key>(sim, 'GET', '/api/v2/provisionerkeys/anything', {
      token: null,
      headers: { 'Coder-Provisioner-Daemon-Key': secret },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.name).toBe('lookup');
    expect(ok.body.tags).toEqual({ t: '1' });
    const withSession = await api(sim, 'GET', `/api/v2/provisionerkeys/${secret}`);
    expect(withSession.status).toBe(401);
    const short = await api(sim, 'GET', '/api/v2/provisionerkeys/x', {
      token: null,
      headers: { 'Coder-Provisioner-Daemon-Key': 'short' },
    });
    expect(short.status).toBe(400);
    const unknown = await api(sim, 'GET', '/api/v2/provisionerkeys/x', {
      token: null,
      headers: { 'Coder-Provisioner-Daemon-Key': 'a'.repeat(43) },
    });
    expect(unknown.status).toBe(401);
    const both = await api(sim, 'GET', '/api/v2/provisionerkeys/x', {
      token: null,
      headers: { 'Coder-Provisioner-Daemon-Key': secret, 'Coder-Provisioner-Daemon-PSK': 'psk' },
    });
    expect(both.status).toBe(400);
  });

  it('deletes by name (204), refuses reserved names (400) and unknown names (404)', async () => {
    await api(sim, 'POST', keysPath, { body: { name: 'doomed' } });
    expect((await api(sim, 'DELETE', `${keysPath}/DOOMED`)).status).toBe(204);
    expect((await api(sim, 'DELETE', `${keysPath}/doomed`)).status).toBe(404);
    expect((await api(sim, 'DELETE', `${keysPath}/built-in`)).status).toBe(400);
  });

  it('hides key routes from ordinary members', async () => {
    const member = sim.seed.user({ username: 'member' });
    expect((await api(sim, 'GET', keysPath, { token: member.token })).status).toBe(404);
  });
});

describe('provisioner daemons', () => {
  let sim: CoderSimulator;
  let secret: string;
  beforeAll(async () => {
    sim = await startCoderSimulator({ rateLimit: false, builtInProvisioners: 0 });
    secret = sim.seed.provisionerKey({ name: 'pool-a', tags: { pool: 'a' } }).key;
    sim.seed.provisionerKey({ name: 'pool-b' });
    sim.seed.provisionerDaemon({ name: 'a-1', keyName: 'pool-a' });
    sim.seed.provisionerDaemon({ name: 'a-2', keyName: 'pool-a', status: 'busy' });
    sim.seed.provisionerDaemon({
      name: 'a-stale',
      keyName: 'pool-a',
      lastSeenAt: new Date(Date.now() - 120_000).toISOString(),
    });
    sim.seed.provisionerDaemon({ name: 'builtin-1', keyName: 'user-auth' });
  });
  afterAll(() => sim.close());

  const daemons = async (query = '') =>
    (await api<Daemon[]>(sim, 'GET', `/api/v2/organizations/coder/provisionerdaemons${query}`)).body;

  it('lists only daemons seen within 90s unless offline=true, newest first, with the key tags', async () => {
    expect((await daemons()).map((d) => d.name).sort()).toEqual(['a-1', 'a-2', 'builtin-1']);
    const all = await daemons('?offline=true');
    expect(all.map((d) => d.name)).toHaveLength(4);
    expect(all.find((d) => d.name === 'a-stale')?.status).toBe('offline');
    expect(all.find((d) => d.name === 'a-1')?.tags).toEqual({ pool: 'a' });
    expect((await daemons('?status=busy')).map((d) => d.name)).toEqual(['a-2']);
    expect((await daemons('?status=offline')).map((d) => d.name)).toEqual(['a-stale']);
    expect((await daemons(`?tags=${encodeURIComponent('{"pool":"a"}')}`)).map((d) => d.name).sort()).toEqual([
      'a-1',
      'a-2',
    ]);
  });

  it('lists keys with their daemons, including the user-auth pseudo key', async () => {
    const res = await api<Array<{ key: Key; daemons: Daemon[] }>>(
      sim,
      'GET',
      '/api/v2/organizations/default/provisionerkeys/daemons',
    );
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.map((e) => [e.key.name, e.daemons.map((d) => d.name).sort()]));
    expect(byName).toEqual({ 'pool-a': ['a-1', 'a-2', 'a-stale'], 'pool-b': [], 'user-auth': ['builtin-1'] });
  });

  it('disconnects daemons when their key is deleted, and when a daemon moves away', async () => {
    sim.seed.removeProvisionerDaemon('a-2');
    expect((await daemons()).map((d) => d.name).sort()).toEqual(['a-1', 'builtin-1']);
    expect((await api(sim, 'DELETE', '/api/v2/organizations/default/provisionerkeys/pool-a')).status).toBe(
      204,
    );
    expect((await daemons('?offline=true')).map((d) => d.name)).toEqual(['builtin-1']);
    const lookup = await api(sim, 'GET', '/api/v2/provisionerkeys/x', {
      token: null,
      headers: { 'Coder-Provisioner-Daemon-Key': secret },
    });
    expect(lookup.status).toBe(401);
  });
});

describe("coderd's built-in provisioner daemons", () => {
  it('lists three untagged daemons named <hostname>-<i> under the built-in key unless told otherwise (cli/server.go)', async () => {
    const sim = await startCoderSimulator({ rateLimit: false });
    const none = await startCoderSimulator({ rateLimit: false, builtInProvisioners: 0 });
    try {
      const listed = await api<Daemon[]>(sim, 'GET', '/api/v2/organizations/default/provisionerdaemons');
      expect(listed.body.map((d) => d.name).sort()).toEqual(['coderd-0', 'coderd-1', 'coderd-2']);
      expect(listed.body.every((d) => d.key_name === 'built-in')).toBe(true);
      expect(listed.body[0]?.tags).toEqual({ scope: 'organization', owner: '' });
      const empty = await api<Daemon[]>(none, 'GET', '/api/v2/organizations/default/provisionerdaemons');
      expect(empty.body).toEqual([]);
    } finally {
      await sim.close();
      await none.close();
    }
  });
});
