/**
 * The simulator against Coder's spec: every route it served exists in swagger.json with that method,
 * and every body it sent validates against the spec's schema for that status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CoderSimulator, type RecordedExchange, startCoderSimulator } from '../../sim/index.js';
import { findException } from '../support/spec-exceptions.js';
import {
  matchOperation,
  unknownQueryParams,
  validateRequestBody,
  validateResponse,
} from '../support/swagger-contract.js';
import { api } from './http.js';

/** Routes coderd serves that the spec leaves out, each listed with its reason in spec-exceptions.ts. */
const isUndeclared = (method: string, route: string | undefined): boolean =>
  route !== undefined && findException(`${method} ${route}`, 'undeclared-operation') !== undefined;

async function exercise(sim: CoderSimulator): Promise<void> {
  const t = sim.seed.template({
    name: 'docker',
    parameters: [
      { name: 'region', defaultValue: 'eu', options: [{ name: 'EU', value: 'eu' }] },
      { name: 'cpu', type: 'number', defaultValue: '2', validationMin: 1, validationMax: 8 },
      { name: 'team', validationRegex: '^[a-z]+$' },
    ],
  });
  const alice = sim.seed.user({ username: 'alice', roles: ['template-admin'] });
  const seeded = sim.seed.workspace({
    owner: 'alice',
    name: 'seeded',
    template: 'docker',
    parameters: { team: 'red' },
    autostartSchedule: 'CRON_TZ=UTC 0 9 * * 1-5',
    ttlMs: 3_600_000,
  });
  sim.seed.provisionerKey({ name: 'seed-key', tags: { pool: 'a' } });
  sim.seed.provisionerDaemon({ name: 'd1', keyName: 'seed-key', status: 'busy' });
  sim.seed.provisionerDaemon({ name: 'd2', keyName: 'user-auth' });

  const get = (path: string, token?: string) => api(sim, 'GET', path, { token });
  await get('/api/v2/buildinfo');
  await get('/api/v2/users/me');
  await get('/api/v2/users/alice/organizations');
  await get('/api/v2/organizations');
  await get('/api/v2/organizations/default');
  await get('/api/v2/templates');
  await get('/api/v2/organizations/default/templates');
  await get('/api/v2/organizations/default/templates/docker');
  await get(`/api/v2/templates/${t.id}`);
  await get(`/api/v2/templateversions/${t.activeVersionId}/rich-parameters`);
  const created = await api<{ id: string; latest_build: { id: string } }>(
    sim,
    'POST',
    '/api/v2/organizations/default/members/alice/workspaces',
    {
      body: {
        name: 'contract-ws',
        template_id: t.id,
        rich_parameter_values: [{ name: 'team', value: 'blue' }],
        automatic_updates: 'never',
        ttl_ms: 7_200_000,
      },
    },
  );
  await api(sim, 'POST', '/api/v2/users/alice/workspaces', {
    body: {
      name: 'contract-ws2',
      template_version_id: t.activeVersionId,
      rich_parameter_values: [{ name: 'team', value: 'x' }],
    },
  });
  await get(`/api/v2/workspaces/${created.body.id}`);
  await api(sim, 'PATCH', `/api/v2/workspaces/${created.body.id}`, { body: { name: 'contract-renamed' } });
  await api(sim, 'PATCH', `/api/v2/templates/${t.id}`, { body: { name: 'docker-two' } });
  await api(sim, 'PATCH', `/api/v2/templates/${t.id}`, { body: { name: 'docker' } });
  await get('/api/v2/workspaces?q=owner:alice&limit=10');
  await get('/api/v2/users/alice/workspace/contract-ws');
  await get(`/api/v2/workspacebuilds/${created.body.latest_build.id}`);
  await get(`/api/v2/workspacebuilds/${seeded.latestBuildId}/parameters`);
  sim.advanceBuilds();
  await api(sim, 'POST', `/api/v2/workspaces/${created.body.id}/builds`, {
    body: { transition: 'start', rich_parameter_values: [{ name: 'cpu', value: '4' }] },
  });
  await api(sim, 'POST', `/api/v2/workspaces/${created.body.id}/builds`, { body: { transition: 'stop' } });
  sim.advanceBuilds();
  await api(sim, 'POST', `/api/v2/workspaces/${seeded.id}/builds`, { body: { transition: 'delete' } });
  sim.advanceBuilds();
  await get(`/api/v2/workspaces/${seeded.id}/builds`);
  await get(`/api/v2/workspaces/${seeded.id}?include_deleted=true`);
  await get('/api/v2/audit?limit=0');
  const key = await api<{ key: string }>(sim, 'POST', '/api/v2/organizations/default/provisionerkeys', {
    body: { name: 'contract-key', tags: { pool: 'b' } },
  });
  await get('/api/v2/organizations/default/provisionerkeys');
  await get('/api/v2/organizations/default/provisionerkeys/daemons');
  await get('/api/v2/organizations/default/provisionerdaemons?offline=true');
  await api(sim, 'GET', '/api/v2/provisionerkeys/key', {
    token: null,
    headers: { 'Coder-Provisioner-Daemon-Key': key.body.key },
  });
  await api(sim, 'DELETE', '/api/v2/organizations/default/provisionerkeys/contract-key');

  // Error answers, each must be a codersdk.Response.
  await get(`/api/v2/workspaces/${seeded.id}`);
  await get('/api/v2/workspaces?q=bogus:1');
  await get('/api/v2/users/nobody/workspace/x');
  await get('/api/v2/users/me', 'abcdefghij-0123456789012345678901');
  await api(sim, 'POST', '/api/v2/users/alice/workspaces', { body: { name: 'bad_name', template_id: t.id } });
  await api(sim, 'POST', '/api/v2/users/alice/workspaces', {
    body: { name: 'contract-ws', template_id: t.id },
  });
  await api(sim, 'POST', '/api/v2/users/alice/workspaces', {
    body: {
      name: 'bad-cpu',
      template_id: t.id,
      rich_parameter_values: [
        { name: 'team', value: 'x' },
        { name: 'cpu', value: '99' },
      ],
    },
  });
  await api(sim, 'POST', `/api/v2/workspaces/${seeded.id}/builds`, { body: { transition: 'start' } });
  await api(sim, 'POST', '/api/v2/organizations/default/provisionerkeys', { body: { name: 'psk' } });
  await api(sim, 'POST', '/api/v2/organizations/default/provisionerkeys', { body: { name: 'seed-key' } });
  await api(sim, 'DELETE', '/api/v2/organizations/default/provisionerkeys/nope');
  await api(sim, 'GET', '/api/v2/provisionerkeys/key', {
    token: null,
    headers: { 'Coder-Provisioner-Daemon-Key': 'x' },
  });
  await get('/api/v2/audit?q=nope:1', alice.token);
  await api(sim, 'PATCH', `/api/v2/workspaces/${created.body.id}`, { body: { name: 'contract-ws2' } });
  await api(sim, 'PATCH', `/api/v2/templates/${t.id}`, { body: { name: 'not_valid' } });
  await get(`/api/v2/templateversions/${t.activeVersionId}`);
  await get('/api/v2/organizations/default/provisionerjobs?status=bogus');
  await get('/api/v2/organizations/default/provisionerjobs?ids=not-a-uuid');
  await get(`/api/v2/organizations/default/provisionerjobs/${t.id}`);
}

/** The provisioner queue's answers: jobs pending and running, daemons busy with a previous job. */
async function exerciseQueue(sim: CoderSimulator): Promise<void> {
  const t = sim.seed.template({ name: 'queued', provisionerTags: { pool: 'a' } });
  const bob = sim.seed.user({ username: 'bob' });
  const get = (path: string, token?: string) => api(sim, 'GET', path, { token });
  for (const name of ['q1', 'q2', 'q3']) {
    await api(sim, 'POST', '/api/v2/users/bob/workspaces', { body: { name, template_id: t.id } });
  }
  await get('/api/v2/workspaces?q=owner:bob');
  await get('/api/v2/organizations/default/provisionerdaemons');
  const jobs = await api<Array<{ id: string }>>(
    sim,
    'GET',
    `/api/v2/organizations/default/provisionerjobs?status=pending,running&limit=10&initiator=${bob.id}`,
  );
  await get(`/api/v2/organizations/default/provisionerjobs/${jobs.body[0]?.id}`);
  await get(`/api/v2/organizations/default/provisionerjobs?tags=${encodeURIComponent('{"pool":"a"}')}`);
  await get(`/api/v2/templateversions/${t.activeVersionId}`);
  sim.clock.advance(60_000);
  await get('/api/v2/organizations/default/provisionerdaemons');
  await get('/api/v2/organizations/default/provisionerjobs');
  await get('/api/v2/organizations/default/provisionerjobs?initiator=nobody');
}

describe('simulator contract with swagger.json', () => {
  let sim: CoderSimulator;
  let exchanges: RecordedExchange[];

  let queued: CoderSimulator;

  beforeAll(async () => {
    sim = await startCoderSimulator({ rateLimit: false, buildDurationMs: 20, allowWorkspaceRenames: true });
    await exercise(sim);
    queued = await startCoderSimulator({
      rateLimit: false,
      provisioners: {
        jobDuration: { kind: 'fixed', ms: 50_000 },
        pools: [{ name: 'pool-a', tags: { pool: 'a' }, count: 1 }],
      },
    });
    await exerciseQueue(queued);
    exchanges = [...sim.exchanges(), ...queued.exchanges()];
  });
  afterAll(async () => {
    await sim.close();
    await queued.close();
  });

  it('exercised every route the simulator serves, with successes and errors', () => {
    const exercised = new Set(exchanges.map((e) => `${e.method} ${e.route}`));
    const served = sim.routeKeys().filter((k) => !k.endsWith(' /healthz'));
    expect(served.filter((k) => !exercised.has(k))).toEqual([]);
    expect(exchanges.some((e) => e.status >= 400)).toBe(true);
    expect(exchanges.some((e) => e.status === 410)).toBe(true);
  });

  it('serves only operations that exist in the spec, under the same path template', () => {
    const problems: string[] = [];
    for (const e of exchanges) {
      if (isUndeclared(e.method, e.route)) continue;
      const op = matchOperation(e.method, e.path);
      if (op === undefined) problems.push(`${e.method} ${e.path}: not in the spec`);
      else if (op.pathTemplate !== e.route)
        problems.push(`${e.method} ${e.path}: spec ${op.pathTemplate}, sim ${e.route}`);
    }
    expect(problems).toEqual([]);
  });

  it('sends response bodies that validate against the spec', () => {
    const problems: string[] = [];
    for (const e of exchanges) {
      if (e.route === undefined || isUndeclared(e.method, e.route)) continue;
      const result = validateResponse(e.method, e.route, e.status, e.responseBody);
      if (!result.ok) problems.push(`${e.status} ${e.method} ${e.path}: ${result.errors.join('; ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('accepted only query parameters the spec declares (or a listed exception)', () => {
    const problems: string[] = [];
    for (const e of exchanges) {
      if (e.route === undefined || e.status >= 300 || isUndeclared(e.method, e.route)) continue;
      const unknown = unknownQueryParams(e.method, e.route, e.path);
      if (unknown.length > 0) problems.push(`${e.method} ${e.path}: ${unknown.join(', ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('was sent request bodies that validate against the spec (for the accepted requests)', () => {
    const problems: string[] = [];
    for (const e of exchanges) {
      if (e.route === undefined || e.status >= 300 || e.requestBody === undefined) continue;
      const result = validateRequestBody(e.method, e.route, e.requestBody);
      if (!result.ok) problems.push(`${e.method} ${e.path}: ${result.errors.join('; ')}`);
    }
    expect(problems).toEqual([]);
  });
});
