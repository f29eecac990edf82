/**
 * The Coder client against the project's Coder simulator over real HTTP on 127.0.0.1: every
 * method, paging, the create race, 410, retries, 429s, timeouts and pacing. The last block checks
 * every request the client sent in this file against the swagger spec.
 */
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoderApiError,
  CoderClient,
  type CoderClientOptions,
  CoderNetworkError,
  type CoderRequestEvent,
  CoderTimeoutError,
  isCoderErrorKind,
} from '../../../lambdas/adapters/coder/index.js';
import { type CoderSimulator, type RecordedExchange, startCoderSimulator } from '../../../sim/index.js';
import { matchOperation, operationExists, validateRequestBody } from '../../support/swagger-contract.js';

/** Every simulator's exchanges and every client event, for the contract and no-secret checks. */
const allExchanges: RecordedExchange[] = [];
const allEvents: CoderRequestEvent[] = [];
const allErrors: unknown[] = [];
const allSecrets: string[] = [];
const sims: CoderSimulator[] = [];

const startSim = async (options: Parameters<typeof startCoderSimulator>[0] = {}): Promise<CoderSimulator> => {
  const sim = await startCoderSimulator({ buildDurationMs: 20, ...options });
  sims.push(sim);
  allSecrets.push(sim.adminToken);
  return sim;
};

const clientFor = (sim: CoderSimulator, options: Partial<CoderClientOptions> = {}): CoderClient =>
  new CoderClient({
    baseUrl: sim.url,
    token: sim.adminToken,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
    onRequest: (event) => allEvents.push(event),
    ...options,
  });

/** Awaits a rejection and keeps the error for the suite-wide no-secret check. */
const failure = async (promise: Promise<unknown>): Promise<CoderApiError> => {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  allErrors.push(error);
  return error as CoderApiError;
};

afterAll(async () => {
  await Promise.all(sims.map((sim) => sim.close()));
});

/** Problems of every exchange against the spec: the operation exists and the request body validates. */
const contractProblems = (): string[] => {
  const problems: string[] = [];
  for (const exchange of allExchanges) {
    const op = `${exchange.method} ${exchange.path}`;
    const match = matchOperation(exchange.method, exchange.path);
    if (!match) {
      problems.push(`${op}: no such operation in the spec`);
      continue;
    }
    if (exchange.route !== undefined && exchange.route !== match.pathTemplate) {
      problems.push(`${op}: simulator routed to ${exchange.route}, spec matches ${match.pathTemplate}`);
    }
    const body = validateRequestBody(exchange.method, match.pathTemplate, exchange.requestBody);
    if (!body.ok) problems.push(`${op}: request body ${body.errors.join(', ')}`);
  }
  return problems;
};

describe('against the simulator', () => {
  let sim: CoderSimulator;
  let coder: CoderClient;
  let alice: { id: string; username: string; token: string };
  let template: { id: string; activeVersionId: string };

  beforeAll(async () => {
    sim = await startSim({ buildDurationMs: 2000 }); // builds advance by hand (advanceBuilds), never by a slow machine
    coder = clientFor(sim);
    alice = sim.seed.user({ username: 'alice' });
    allSecrets.push(alice.token);
    template = sim.seed.template({
      name: 'dev',
      parameters: [
        {
          name: 'region',
          defaultValue: 'eu',
          options: [
            { name: 'EU', value: 'eu' },
            { name: 'US', value: 'us' },
          ],
        },
        { name: 'family', defaultValue: 'none' },
      ],
    });
    sim.seed.workspace({ owner: 'alice', name: 'alpha', template: 'dev', parameters: { family: 'web' } });
    sim.seed.workspace({ owner: 'alice', name: 'beta', template: 'dev', status: 'stopped' });
  });

  describe('deployment and identity', () => {
    it('reads build info, the caller, and organizations including the default alias', async () => {
      await expect(coder.buildInfo()).resolves.toMatchObject({ version: expect.any(String) });
      await expect(coder.me()).resolves.toMatchObject({ username: 'admin' });
      const orgs = await coder.organizations();
      const defaultOrg = orgs.find((o) => o.is_default);
      expect(defaultOrg?.name).toBe('coder');
      await expect(coder.organization('default')).resolves.toMatchObject({ id: defaultOrg?.id });
      await expect(coder.organization('coder')).resolves.toMatchObject({ id: defaultOrg?.id });
      const missing = await failure(coder.organization('nope'));
      expect(missing).toMatchObject({ kind: 'not_found', status: 404 });
      expect(missing.message).toMatch(/^organization "nope" not found/);
    });

    it('says to check the token secret on 401, without the token', async () => {
      const wrong = 'zzzzzzzzzz-wrongwrongwrongwrongwr';
      allSecrets.push(wrong);
      const error = await failure(clientFor(sim, { token: wrong }).me());
      expect(error).toMatchObject({ kind: 'unauthorized', status: 401 });
      expect(error.message).toMatch(/session token is missing or expired; check the token secret/);
    });
  });

  describe('workspaces', () => {
    it('lists with q, gets by owner and name, by id, and reads build parameters', async () => {
      const { workspaces: listed } = await coder.listWorkspaces({ q: 'owner:alice param:family=web' });
      expect(listed.map((w) => w.name)).toEqual(['alpha']);
      const byName = await coder.getWorkspaceByOwnerAndName('alice', 'ALPHA');
      expect(byName?.id).toBe(listed[0]?.id);
      await expect(coder.getWorkspaceByOwnerAndName('alice', 'nothing')).resolves.toBeUndefined();
      const byId = await coder.getWorkspace(byName?.id ?? '');
      expect(byId).toMatchObject({ name: 'alpha', owner_name: 'alice', template_name: 'dev' });
      const params = await coder.getBuildParameters(byId.latest_build.id);
      expect(params).toEqual(
        expect.arrayContaining([
          { name: 'family', value: 'web' },
          { name: 'region', value: 'eu' },
        ]),
      );
    });

    it('creates for another user, refuses a second build while one is active, then stops and deletes to 410', async () => {
      const created = await coder.createWorkspace('coder', 'alice', {
        name: 'gamma',
        template_id: template.id,
        rich_parameter_values: [{ name: 'family', value: 'api' }],
      });
      expect(created).toMatchObject({ name: 'gamma', owner_name: 'alice' });
      expect(created.latest_build).toMatchObject({ transition: 'start' });

      const busy = await failure(coder.stopWorkspace(created.id));
      expect(busy).toMatchObject({ kind: 'build_active', status: 409 });
      expect(busy.message).toMatch(
        /a workspace build is already active .*wait for it to finish or cancel it/,
      );

      sim.advanceBuilds();
      const stop = await coder.stopWorkspace(created.id, { reason: 'cli' });
      expect(stop).toMatchObject({ transition: 'stop', workspace_id: created.id });
      sim.advanceBuilds();
      const start = await coder.startWorkspace(created.id, {
        rich_parameter_values: [{ name: 'region', value: 'us' }],
      });
      expect(start.transition).toBe('start');
      sim.advanceBuilds();
      await expect(coder.getBuildParameters(start.id)).resolves.toEqual(
        expect.arrayContaining([
          { name: 'region', value: 'us' },
          { name: 'family', value: 'api' },
        ]),
      );
      await coder.deleteWorkspace(created.id);
      sim.advanceBuilds();

      const gone = await failure(coder.getWorkspace(created.id));
      expect(gone).toBeInstanceOf(CoderApiError);
      expect(gone).toMatchObject({ kind: 'gone', status: 410 });
      expect(gone.message).toMatch(/has been deleted; pass includeDeleted/);
      await expect(coder.getWorkspace(created.id, { includeDeleted: true })).resolves.toMatchObject({
        id: created.id,
      });
      await expect(coder.getWorkspaceByOwnerAndName('alice', 'gamma')).resolves.toBeUndefined();
      expect(await coder.listWorkspaces({ q: 'owner:alice' })).not.toContainEqual(
        expect.objectContaining({ id: created.id }),
      );
    });

    it('says which workspace name Coder rejected and why', async () => {
      const error = await failure(
        coder.createWorkspace('coder', 'alice', { name: 'Bad_Name', template_id: template.id }),
      );
      expect(error).toMatchObject({ kind: 'validation', status: 400 });
      expect(error.validations[0]?.field).toBe('name');
      expect(error.message).toMatch(
        /^Coder rejected workspace name "Bad_Name": name: .+ \(400 Validation failed\.\)/,
      );
    });

    it('reports a taken name as already_exists', async () => {
      const error = await failure(
        coder.createWorkspace('coder', 'alice', { name: 'Alpha', template_id: template.id }),
      );
      expect(error).toMatchObject({ kind: 'already_exists', status: 409 });
      expect(error.message).toMatch(/already exists/);
    });
  });

  describe('templates', () => {
    it('gets by org and name, lists, gets by id and reads rich parameters', async () => {
      const dev = await coder.getTemplateByName('default', 'dev');
      expect(dev).toMatchObject({ id: template.id, active_version_id: template.activeVersionId });
      await expect(coder.listTemplates('coder')).resolves.toContainEqual(
        expect.objectContaining({ name: 'dev' }),
      );
      await expect(coder.listTemplates()).resolves.toContainEqual(expect.objectContaining({ name: 'dev' }));
      await expect(coder.getTemplate(template.id)).resolves.toMatchObject({ name: 'dev' });
      const parameters = await coder.getTemplateVersionRichParameters(dev.active_version_id);
      expect(parameters.map((p) => p.name)).toEqual(['region', 'family']);
      expect(parameters[0]?.options?.map((o) => o.value)).toEqual(['eu', 'us']);
    });

    it('says which template is missing and where', async () => {
      const error = await failure(coder.getTemplateByName('coder', 'x'));
      expect(error).toMatchObject({ kind: 'not_found', status: 404 });
      expect(error.message).toMatch(/^template "x" not found in organization "coder"/);
    });
  });

  describe('provisioner keys and daemons', () => {
    it('creates, lists, identifies by header, lists daemons, and deletes a key', async () => {
      const { key } = await coder.createProvisionerKey('coder', { name: 'eks-blue', tags: { pool: 'blue' } });
      allSecrets.push(key);
      expect(key).toHaveLength(43);

      const keys = await coder.listProvisionerKeys('coder');
      expect(keys).toContainEqual(expect.objectContaining({ name: 'eks-blue', tags: { pool: 'blue' } }));
      expect(JSON.stringify(keys)).not.toContain(key);

      const duplicate = await failure(coder.createProvisionerKey('default', { name: 'EKS-BLUE' }));
      expect(duplicate).toMatchObject({ kind: 'already_exists', status: 409 });

      allExchanges.push(...sim.exchanges());
      sim.clearExchanges();
      const details = await coder.getProvisionerKeyDetails(key);
      expect(details).toMatchObject({ name: 'eks-blue' });
      const [exchange] = sim.exchanges();
      expect(exchange?.path).toBe('/api/v2/provisionerkeys/current');
      expect(exchange?.requestHeaders['coder-provisioner-daemon-key']).toBe(key);
      expect(exchange?.requestHeaders['coder-session-token']).toBeUndefined();

      sim.seed.provisionerDaemon({ name: 'daemon-1', keyName: 'eks-blue' });
      const perKey = await coder.listProvisionerKeyDaemons('coder');
      expect(perKey.find((entry) => entry.key.name === 'eks-blue')?.daemons?.map((d) => d.name)).toEqual([
        'daemon-1',
      ]);
      const daemons = await coder.listProvisionerDaemons('coder', { offline: true, limit: 50 });
      expect(daemons).toContainEqual(expect.objectContaining({ name: 'daemon-1', key_name: 'eks-blue' }));

      await coder.deleteProvisionerKey('coder', 'eks-blue');
      const again = await failure(coder.deleteProvisionerKey('coder', 'eks-blue'));
      expect(again).toMatchObject({ kind: 'not_found' });
      expect(again.message).toMatch(/^provisioner key "eks-blue" not found in organization "coder"/);
      const unknown = await failure(coder.getProvisionerKeyDetails(key));
      expect(unknown).toMatchObject({ kind: 'unauthorized', status: 401 });
      expect(unknown.message).toMatch(/does not recognise this provisioner key/);
    });
  });

  describe('audit logs', () => {
    it('reads a page of audit logs with a query', async () => {
      const page = await coder.listAuditLogs({ q: 'resource_type:workspace action:create', limit: 10 });
      expect(page.count).toBe(page.audit_logs.length);
      for (const row of page.audit_logs)
        expect(row).toMatchObject({ resource_type: 'workspace', action: 'create' });
    });
  });

  it('reports each attempt by route template, never the concrete URL', () => {
    const routes = new Set(allEvents.map((e) => e.route));
    expect(
      [...routes].every(
        (route) =>
          operationExists('GET', route) || operationExists('POST', route) || operationExists('DELETE', route),
      ),
    ).toBe(true);
    expect([...routes].some((route) => route.includes('alice') || route.includes(template.id))).toBe(false);
    expect(coder.stats().byRoute['GET /api/v2/workspaces/{workspace}']).toBeGreaterThanOrEqual(3);
  });
});

describe('paging', () => {
  it('lists 3000 workspaces across pages: count matches, no duplicates', async () => {
    const sim = await startSim({ record: false });
    sim.seed.user({ username: 'bulk' });
    sim.seed.template({ name: 'base' });
    for (let i = 0; i < 3000; i++) sim.seed.workspace({ owner: 'bulk', name: `ws-${i}`, template: 'base' });
    const coder = clientFor(sim);
    const list = await coder.listWorkspaces({ q: 'owner:bulk', pageSize: 250 });
    const all = list.workspaces;
    expect(list).toMatchObject({ complete: true, count: 3000, reads: 1 });
    expect(all).toHaveLength(3000);
    expect(new Set(all.map((w) => w.id)).size).toBe(3000);
    expect(sim.requestCounts()['GET /api/v2/workspaces']).toBe(12);

    const iterated = (await coder.listWorkspaces({ q: 'owner:bulk name:ws-29', pageSize: 4 })).workspaces.map(
      (w) => w.name,
    );
    // name: is a substring match: ws-29, ws-290..ws-299 and ws-2900..ws-2999.
    expect(iterated).toHaveLength(111);
    expect(new Set(iterated).size).toBe(111);
    expect(iterated.every((name) => name.startsWith('ws-29'))).toBe(true);
  });
});

describe('create race', () => {
  it.each([
    ['409 from the name check', 0],
    ['500 duplicate key from the insert', 30],
  ])(
    'two concurrent creates of one name: one wins, the other is already_exists (%s)',
    async (_, raceWindowMs) => {
      const sim = await startSim({ createRaceWindowMs: raceWindowMs });
      sim.seed.user({ username: 'carol' });
      const { id } = sim.seed.template({ name: 'dev' });
      const coder = clientFor(sim);
      const results = await Promise.allSettled([
        coder.createWorkspace('coder', 'carol', { name: 'twin', template_id: id }),
        coder.createWorkspace('coder', 'carol', { name: 'twin', template_id: id }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      allErrors.push(...lost);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(isCoderErrorKind(lost[0], 'already_exists')).toBe(true);
      if (raceWindowMs > 0) expect(lost[0]).toMatchObject({ status: 500 });
      // A create is never retried, so exactly two requests reached Coder.
      expect(sim.requestCounts()['POST /api/v2/users/{user}/workspaces']).toBe(2);
      expect(sim.workspacesSnapshot().filter((w) => w.name === 'twin')).toHaveLength(1);
    },
  );
});

describe('failures and retries', () => {
  let sim: CoderSimulator;
  let templateId: string;

  beforeAll(async () => {
    sim = await startSim();
    sim.seed.user({ username: 'dave' });
    templateId = sim.seed.template({ name: 'dev' }).id;
  });

  it('retries a GET through 5xx until it succeeds', async () => {
    sim.setFaults({ errorRate: 1, routes: ['GET /api/v2/templates'] });
    const coder = clientFor(sim, {
      onRequest: (event) => {
        allEvents.push(event);
        if (event.attempt === 2) sim.setFaults(undefined);
      },
    });
    await expect(coder.listTemplates()).resolves.toContainEqual(expect.objectContaining({ name: 'dev' }));
    expect(coder.stats()).toMatchObject({ requests: 3, retries: 2 });
  });

  it('gives up on a GET after the attempt budget with a server error', async () => {
    sim.setFaults({ errorRate: 1, routes: ['GET /api/v2/templates/{template}'] });
    sim.resetRequestCounts();
    const error = await failure(clientFor(sim).getTemplate(templateId));
    sim.setFaults(undefined);
    expect(error).toMatchObject({ kind: 'server', attempts: 4 });
    expect(sim.requestCounts()['GET /api/v2/templates/{template}']).toBe(4);
  });

  it('does not retry a create after 5xx, even when the create took effect', async () => {
    const route = 'POST /api/v2/users/{user}/workspaces';
    sim.setFaults({ errorAfterEffectRate: 1, routes: [route] });
    sim.resetRequestCounts();
    const coder = clientFor(sim);
    const error = await failure(
      coder.createWorkspace('coder', 'dave', { name: 'maybe', template_id: templateId }),
    );
    sim.setFaults(undefined);
    expect(error).toMatchObject({ kind: 'server', status: 500, attempts: 1 });
    expect(error.message).toMatch(/may still have taken effect, so read back/);
    expect(sim.requestCounts()[route]).toBe(1);
    // The caller reconciles by reading back.
    await expect(coder.getWorkspaceByOwnerAndName('dave', 'maybe')).resolves.toMatchObject({ name: 'maybe' });
  });

  it('honours Retry-After on 429 for a GET and for a create', async () => {
    const slept: number[] = [];
    // The limiter off, so every sleep is a retry delay (it would also hold the route after a 429).
    const coder = clientFor(sim, {
      rateLimitPerMinute: false,
      sleep: (ms) => {
        slept.push(ms);
        return new Promise((resolve) => setTimeout(resolve, 10));
      },
    });
    sim.setFaults({ rateLimitBurst: 2, rateLimitBurstRetryAfterSeconds: 1 });
    await expect(coder.me()).resolves.toMatchObject({ username: 'admin' });
    expect(slept).toEqual([1000, 1000]);
    sim.setFaults({ rateLimitBurst: 1, rateLimitBurstRetryAfterSeconds: 2 });
    await expect(coder.createProvisionerKey('coder', { name: 'after-429' })).resolves.toMatchObject({
      key: expect.any(String),
    });
    sim.setFaults(undefined);
    expect(slept).toEqual([1000, 1000, 2000]);
    expect(coder.stats().rateLimited).toBe(3);
  });

  it('reports rate_limited when 429s outlast the attempt budget', async () => {
    sim.setFaults({ rateLimitBurst: 10 });
    const error = await failure(clientFor(sim, { sleep: async () => {}, retry: { maxAttempts: 3 } }).me());
    sim.setFaults(undefined);
    expect(error).toMatchObject({ kind: 'rate_limited', status: 429, attempts: 3 });
  });

  it('times out an unanswered GET, retries it, and recovers', async () => {
    sim.setFaults({ timeoutRate: 1, routes: ['GET /api/v2/users/{user}'] });
    const coder = clientFor(sim, {
      timeoutMs: 150,
      onRequest: (event) => {
        allEvents.push(event);
        if (event.status === 'timeout') sim.setFaults(undefined);
      },
    });
    await expect(coder.me()).resolves.toMatchObject({ username: 'admin' });
    expect(coder.stats()).toMatchObject({ timeouts: 1, retries: 1 });
  });

  it('throws CoderTimeoutError when every attempt times out', async () => {
    sim.setFaults({ timeoutRate: 1, routes: ['GET /api/v2/organizations'] });
    const error = await failure(
      clientFor(sim, { timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 1 } }).organizations(),
    );
    sim.setFaults(undefined);
    expect(error).toBeInstanceOf(CoderTimeoutError);
    expect(error).toMatchObject({ kind: 'timeout', attempts: 2, timeoutMs: 100 });
  });

  it('throws CoderNetworkError when nothing listens, without the token', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const error = await failure(
      new CoderClient({
        baseUrl: `http://127.0.0.1:${port}`,
        token: sim.adminToken,
        retry: { maxAttempts: 2, baseDelayMs: 1 },
      }).me(),
    );
    expect(error).toBeInstanceOf(CoderNetworkError);
    expect(error).toMatchObject({ kind: 'network', code: 'ECONNREFUSED', attempts: 2 });
    expect(error.message).toMatch(
      /^Could not reach Coder at http:\/\/127\.0\.0\.1:\d+ for GET \/api\/v2\/users\/\{user\}/,
    );
  });
});

describe('pacing', () => {
  it('keeps a burst under the server budget: every request succeeds, zero 429s', async () => {
    const sim = await startSim({ rateLimit: { perMinute: 20, windowMs: 500 } });
    // The client paces by send time, the server counts arrivals: the slack (12 of 20) absorbs an
    // event-loop stall on a loaded machine bunching arrivals together.
    const coder = clientFor(sim, {
      rateLimitPerMinute: 12,
      rateLimitWindowMs: 500,
      retry: { maxAttempts: 1 },
    });
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 60 }, () => coder.me()));
    expect(results).toHaveLength(60);
    expect(sim.exchanges().filter((e) => e.status === 429)).toEqual([]);
    expect(coder.stats().rateLimited).toBe(0);
    // 60 requests at 12 per 500 ms need at least five windows: the limiter really held them back.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it('without the client limiter the same burst collects 429s, and Retry-After still gets it through', async () => {
    const sim = await startSim({ rateLimit: { perMinute: 20, windowMs: 500 } });
    const coder = clientFor(sim, { rateLimitPerMinute: false, retry: { maxAttempts: 8 } });
    const results = await Promise.all(Array.from({ length: 40 }, () => coder.me()));
    expect(results).toHaveLength(40);
    const limited = sim.exchanges().filter((e) => e.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]?.responseHeaders['retry-after']).toBe('1');
    expect(coder.stats().rateLimited).toBe(limited.length);
  });
});

describe('secrets', () => {
  it('no error raised in this file carries a token or key, in its message or any property', () => {
    expect(allErrors.length).toBeGreaterThan(10);
    for (const error of allErrors) {
      const text = [
        String(error),
        JSON.stringify(error),
        inspect(error, { depth: 10, showHidden: true }),
      ].join('\n');
      for (const secret of allSecrets) expect(text).not.toContain(secret);
    }
  });

  it('no request put a token or key in its URL', () => {
    const exchanges = [...allExchanges, ...sims.flatMap((sim) => sim.exchanges())];
    expect(exchanges.length).toBeGreaterThan(0);
    for (const exchange of exchanges)
      for (const secret of allSecrets) expect(exchange.path).not.toContain(secret);
  });
});

// Last in the file, so it sees every request the client sent here.
describe('contract', () => {
  it('every request the client sent hits a spec operation with that method, and its body validates', () => {
    allExchanges.push(...sims.flatMap((sim) => sim.exchanges()));
    expect(allExchanges.length).toBeGreaterThan(50);
    expect(allExchanges.some((e) => e.method === 'POST' && e.requestBody !== undefined)).toBe(true);
    expect(contractProblems()).toEqual([]);
  });
});
