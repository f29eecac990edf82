/**
 * The client's request core against a scripted fetch: exact control over statuses, headers and
 * failures, with an instant sleep. The simulator-backed suite covers the same behaviour over HTTP.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  CoderApiError,
  CoderClient,
  type CoderClientOptions,
  CoderDeadlineError,
  CoderNetworkError,
  type CoderRequestEvent,
  CoderResponseShapeError,
  CoderTimeoutError,
} from '../../../lambdas/adapters/coder/index.js';

const TOKEN = 'abcdefghij-SECRETsecretSECRETsecret1';

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const build = {
  id: 'b1',
  build_number: 1,
  workspace_id: 'w1',
  transition: 'start',
  status: 'running',
  job: { id: 'j1', status: 'succeeded' },
};
const workspace = (id: string) => ({
  id,
  name: `ws-${id}`,
  owner_id: 'u1',
  owner_name: 'alice',
  organization_id: 'o1',
  template_id: 't1',
  template_name: 'dev',
  latest_build: { ...build, workspace_id: id },
});

const harness = (
  answer: (req: Seen, n: number) => Response | Promise<Response>,
  options: Partial<CoderClientOptions> = {},
) => {
  const seen: Seen[] = [];
  const sleeps: number[] = [];
  const events: CoderRequestEvent[] = [];
  const fetchImpl = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req: Seen = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? init.body : undefined,
    };
    seen.push(req);
    return answer(req, seen.length);
  };
  const client = new CoderClient({
    baseUrl: 'https://coder.example.com/',
    token: TOKEN,
    fetch: fetchImpl as typeof fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    rateLimitPerMinute: false,
    onRequest: (e) => events.push(e),
    ...options,
  });
  return { client, seen, sleeps, events };
};

const expectNoToken = (error: unknown, secret = TOKEN) => {
  expect(String(error)).not.toContain(secret);
  expect(JSON.stringify(error)).not.toContain(secret);
  expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(secret);
};

describe('requests', () => {
  it('sends the session token header and URL-encodes path parameters', async () => {
    const { client, seen } = harness(() => json(404, { message: 'Resource not found' }));
    await expect(client.getWorkspaceByOwnerAndName('a/b c', '..')).resolves.toBeUndefined();
    expect(seen[0]?.url).toBe('https://coder.example.com/api/v2/users/a%2Fb%20c/workspace/%2E%2E');
    expect(seen[0]?.headers['coder-session-token']).toBe(TOKEN);
    expect(seen[0]?.headers.accept).toBe('application/json');
  });

  it('asks a token provider on every call', async () => {
    let calls = 0;
    const { client, seen } = harness(() => json(200, { version: 'v2.37.0' }), {
      token: async () => `token-${++calls}`,
    });
    await client.buildInfo();
    await client.buildInfo();
    expect(seen.map((s) => s.headers['coder-session-token'])).toEqual(['token-1', 'token-2']);
  });

  it('sends a provisioner key only in its header, with a placeholder path and no session token', async () => {
    const key = 'k'.repeat(43);
    const { client, seen } = harness(() => json(200, { id: 'k1', name: 'eks', tags: { pool: 'a' } }));
    await expect(client.getProvisionerKeyDetails(key)).resolves.toMatchObject({ name: 'eks' });
    expect(seen[0]?.url).toBe('https://coder.example.com/api/v2/provisionerkeys/current');
    expect(seen[0]?.headers['coder-provisioner-daemon-key']).toBe(key);
    expect(seen[0]?.headers['coder-session-token']).toBeUndefined();
  });

  it('keeps fields it does not declare', async () => {
    const { client } = harness(() => json(200, { version: 'v2', brand_new_field: 7 }));
    await expect(client.buildInfo()).resolves.toEqual({ version: 'v2', brand_new_field: 7 });
  });
});

describe('retries', () => {
  it('retries a GET after 5xx with full-jitter backoff and reports each attempt by route template', async () => {
    const { client, sleeps, events } = harness((_, n) =>
      n < 3 ? json(503, { message: 'unavailable' }) : json(200, { version: 'v2' }),
    );
    await client.buildInfo();
    expect(sleeps).toEqual([100, 200]);
    expect(events.map((e) => [e.route, e.status, e.attempt])).toEqual([
      ['/api/v2/buildinfo', 503, 1],
      ['/api/v2/buildinfo', 503, 2],
      ['/api/v2/buildinfo', 200, 3],
    ]);
    expect(client.stats()).toMatchObject({
      requests: 3,
      retries: 2,
      byRoute: { 'GET /api/v2/buildinfo': 3 },
    });
  });

  it('gives up after maxAttempts with a server error naming the attempts', async () => {
    const { client, seen } = harness(() => json(500, { message: 'Internal error.', detail: 'db down' }), {
      retry: { maxAttempts: 3 },
    });
    const error = await client.getTemplate('t1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoderApiError);
    expect(error).toMatchObject({ kind: 'server', status: 500, attempts: 3, detail: 'db down' });
    expect(seen).toHaveLength(3);
  });

  it('does not repeat a create after 5xx, and says to read back', async () => {
    const { client, seen } = harness(() => json(500, { message: 'Internal error.' }));
    const error = await client
      .createWorkspace('default', 'alice', { name: 'ws1', template_id: 't1' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'server', attempts: 1 });
    expect((error as Error).message).toMatch(/read back before creating again/);
    expect(seen).toHaveLength(1);
  });

  it('repeats a mutation the caller marked idempotent', async () => {
    const { client, seen } = harness((_, n) => (n === 1 ? json(502, {}) : json(201, build)));
    await client.stopWorkspace('w1', { idempotent: true });
    expect(seen).toHaveLength(2);
    expect(JSON.parse(seen[1]?.body ?? '{}')).toEqual({ transition: 'stop' });
  });

  it('retries a DELETE of a key by name', async () => {
    const { client, seen } = harness((_, n) =>
      n === 1 ? json(503, {}) : new Response(null, { status: 204 }),
    );
    await client.deleteProvisionerKey('default', 'old-key');
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ['DELETE', 'https://coder.example.com/api/v2/organizations/default/provisionerkeys/old-key'],
      ['DELETE', 'https://coder.example.com/api/v2/organizations/default/provisionerkeys/old-key'],
    ]);
  });

  it('honours Retry-After in seconds or as an HTTP date, even for a create', async () => {
    const now = Date.parse('2026-08-01T12:00:00Z');
    const { client, sleeps } = harness(
      (_, n) =>
        n === 1
          ? json(429, { message: 'rate limited' }, { 'Retry-After': '2' })
          : n === 2
            ? json(429, {}, { 'Retry-After': 'Sat, 01 Aug 2026 12:00:03 GMT' })
            : json(201, { key: 'plaintext' }),
      { now: () => now },
    );
    await expect(client.createProvisionerKey('default', { name: 'k', tags: {} })).resolves.toEqual({
      key: 'plaintext',
    });
    expect(sleeps).toEqual([2000, 3000]);
    expect(client.stats()).toMatchObject({ rateLimited: 2, retries: 2 });
  });

  it('reports rate_limited once the attempt budget is spent', async () => {
    const { client } = harness(() => json(429, { message: 'slow down' }, { 'Retry-After': '1' }));
    await expect(client.listTemplates()).rejects.toMatchObject({ kind: 'rate_limited', attempts: 4 });
  });

  it('holds the route in the client limiter for the Retry-After a 429 gave', async () => {
    let now = 0;
    const { client, sleeps } = harness(
      (_, n) => (n === 1 ? json(429, {}, { 'Retry-After': '5' }) : json(200, { version: 'v2' })),
      { rateLimitPerMinute: 480, now: () => now },
    );
    await client.buildInfo();
    // The retry waits out Retry-After, then the limiter also holds that route until the window ends.
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBe(5000);
    expect(sleeps[1]).toBeCloseTo(5000, 6);
    now = 10_000;
    sleeps.length = 0;
    await client.buildInfo();
    expect(sleeps).toEqual([]);
  });
});

describe('failures', () => {
  it('turns a network failure into CoderNetworkError without leaking the token', async () => {
    const { client } = harness(() => {
      const cause = Object.assign(new Error(`connect ECONNREFUSED 10.0.0.1:443 token=${TOKEN}`), {
        code: 'ECONNREFUSED',
      });
      throw new TypeError('fetch failed', { cause });
    });
    const error = await client.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoderNetworkError);
    expect(error).toMatchObject({
      kind: 'network',
      code: 'ECONNREFUSED',
      attempts: 4,
      route: '/api/v2/users/{user}',
    });
    expect((error as Error).message).toMatch(/Could not reach Coder at https:\/\/coder.example.com/);
    expectNoToken(error);
    expect(client.stats().networkErrors).toBe(4);
  });

  it('times out a request that does not answer in time', async () => {
    const { client, events } = harness(
      (req) =>
        new Promise<Response>(() => {
          void req;
        }),
      { timeoutMs: 30, retry: { maxAttempts: 2 } },
    );
    const error = await client.organizations().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoderTimeoutError);
    expect(error).toMatchObject({ kind: 'timeout', timeoutMs: 30, attempts: 2 });
    expect(events.map((e) => e.status)).toEqual(['timeout', 'timeout']);
  });

  it('passes a caller abort through instead of retrying it', async () => {
    const controller = new AbortController();
    const { client, seen } = harness(
      (_req) =>
        new Promise<Response>((_, reject) => {
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason));
        }),
    );
    const pending = client.organizations({ signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
    expect(seen).toHaveLength(1);
  });

  it('rejects a 2xx body of the wrong shape, naming the field but not its value', async () => {
    const { client } = harness(() => json(200, { workspaces: [{ id: 42 }], count: 1 }));
    const error = await client.listWorkspaces().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoderResponseShapeError);
    expect((error as CoderResponseShapeError).problems).toContain(
      'workspaces.0.id: Invalid input: expected string, received number',
    );
    expect((error as Error).message).toMatch(/not the documented shape/);
  });

  it('rejects a 2xx body that is not JSON', async () => {
    const { client } = harness(() => new Response('<html>login</html>', { status: 200 }));
    await expect(client.buildInfo()).rejects.toMatchObject({
      kind: 'response_shape',
      problems: ['the body is not JSON'],
    });
  });

  it('keeps an excerpt of a non-JSON error body and redacts the token from Coder text', async () => {
    const { client } = harness((_, n) =>
      n === 1
        ? new Response('<html>Bad gateway</html>', { status: 404 })
        : json(401, { message: 'You are signed out.', detail: `token ${TOKEN} expired` }),
    );
    await expect(client.getTemplate('t1')).rejects.toMatchObject({
      kind: 'not_found',
      detail: '<html>Bad gateway</html>',
    });
    const error = await client.me().catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unauthorized', detail: 'token [redacted] expired' });
    expect((error as Error).message).toMatch(/session token is missing or expired; check the token secret/);
    expectNoToken(error);
  });

  it('redacts a non-JSON error body before cutting it to its excerpt, whatever the case of the echo', async () => {
    // Prepare: a proxy page that echoes the token where the 200-character cut-off splits it.
    const { client } = harness(
      (_, n) =>
        n === 1
          ? new Response(`<html>${'x'.repeat(163)}${TOKEN} rejected</html>`, { status: 502 })
          : new Response(`<html>bad token ${TOKEN.toLowerCase()}</html>`, { status: 401 }),
      { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    // Act
    const cut = await client.me().catch((e: unknown) => e);
    const lowered = await client.me().catch((e: unknown) => e);
    // Assess
    for (const error of [cut, lowered]) {
      expect(JSON.stringify(error) + (error as Error).message).not.toMatch(/SECRETsecret|secretsecret/i);
      expect((error as { detail?: string }).detail).toContain('[redacted]');
    }
  });

  it('keeps the provisioner key out of errors about it', async () => {
    const key = 'Z'.repeat(43);
    const { client } = harness(() => json(401, { message: `unknown key ${key}` }));
    const error = await client.getProvisionerKeyDetails(key).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'unauthorized' });
    expect((error as Error).message).toMatch(/does not recognise this provisioner key/);
    expectNoToken(error, key);
  });

  it('ignores an onRequest hook that throws', async () => {
    const { client } = harness(() => json(200, { version: 'v2' }), {
      onRequest: () => {
        throw new Error('metrics broke');
      },
    });
    await expect(client.buildInfo()).resolves.toMatchObject({ version: 'v2' });
  });

  it('refuses a baseUrl that carries credentials', () => {
    expect(() => new CoderClient({ baseUrl: 'https://u:p@coder.example.com', token: 't' })).toThrow(
      /without credentials/,
    );
  });
});

describe('workspace paging', () => {
  it('pages until count, one read when the list holds still', async () => {
    const pages: Record<string, unknown> = {
      '0': { workspaces: [workspace('a'), workspace('b')], count: 5 },
      '2': { workspaces: [workspace('c'), workspace('d')], count: 5 },
      '4': { workspaces: [workspace('e')], count: 5 },
    };
    const { client, seen } = harness((req) =>
      json(200, pages[new URL(req.url).searchParams.get('offset') ?? '']),
    );
    const list = await client.listWorkspaces({ q: 'owner:alice', pageSize: 2 });
    expect(list.workspaces.map((w) => w.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(list).toMatchObject({ complete: true, count: 5, reads: 1 });
    expect(seen.map((s) => new URL(s.url).search)).toEqual([
      '?q=owner%3Aalice&limit=2&offset=0',
      '?q=owner%3Aalice&limit=2&offset=2',
      '?q=owner%3Aalice&limit=2&offset=4',
    ]);
  });

  it('re-reads the whole list when a row repeats (a row moved back across the page boundary)', async () => {
    // First read: "x" started between pages and moved up, so "b" repeats and "x" is never seen.
    const reads = [
      {
        '0': { workspaces: [workspace('a'), workspace('b')], count: 5 },
        '2': { workspaces: [workspace('b'), workspace('c')], count: 5 },
        '4': { workspaces: [workspace('d')], count: 5 },
      },
      {
        '0': { workspaces: [workspace('a'), workspace('x')], count: 5 },
        '2': { workspaces: [workspace('b'), workspace('c')], count: 5 },
        '4': { workspaces: [workspace('d')], count: 5 },
      },
    ];
    let read = 0;
    const { client, seen } = harness((req) => {
      const offset = new URL(req.url).searchParams.get('offset') ?? '';
      const body = (reads[read] as Record<string, unknown>)[offset];
      if (offset === '4') read++;
      return json(200, body);
    });
    const list = await client.listWorkspaces({ pageSize: 2 });
    expect(list.workspaces.map((w) => w.id).sort()).toEqual(['a', 'b', 'c', 'd', 'x']);
    expect(list).toMatchObject({ complete: true, reads: 2 });
    expect(seen).toHaveLength(6);
  });

  it('re-reads when count changes between pages, and says the list is incomplete when it never holds still', async () => {
    let n = 0;
    const { client, seen } = harness((req) => {
      const offset = Number(new URL(req.url).searchParams.get('offset'));
      n++;
      // Every second page sees one workspace more: someone keeps creating.
      return json(200, {
        workspaces: offset === 0 ? [workspace(`a${n}`), workspace(`b${n}`)] : [workspace(`c${n}`)],
        count: 3 + (offset === 0 ? 0 : 1),
      });
    });
    const list = await client.listWorkspaces({ pageSize: 2, rereads: 1 });
    expect(list.complete).toBe(false);
    expect(list.reads).toBe(2);
    expect(seen).toHaveLength(4);
    // What the earlier read saw is kept (it may be what the last read skipped), never trusted whole.
    expect(list.workspaces.map((w) => w.id).sort()).toEqual(['a1', 'a3', 'b1', 'b3', 'c2', 'c4']);
  });

  it('an empty page before count is reached means rows left the list: incomplete after the re-reads', async () => {
    const { client, seen } = harness((req) =>
      json(
        200,
        new URL(req.url).searchParams.get('offset') === '0'
          ? { workspaces: [workspace('a')], count: 10 }
          : { workspaces: [], count: 10 },
      ),
    );
    const list = await client.listWorkspaces({ pageSize: 1, rereads: 0 });
    expect(list).toMatchObject({ complete: false, reads: 1 });
    expect(list.workspaces.map((w) => w.id)).toEqual(['a']);
    expect(seen).toHaveLength(2);
  });
});

describe('the run deadline', () => {
  it('refuses a pacing wait longer than the time left, and sends nothing', async () => {
    const { client, seen, sleeps } = harness(() => json(200, []), { rateLimitPerMinute: 2, now: () => 0 });
    const deadline = { remainingMs: () => 5_000 };
    await client.organizations({ deadline });
    const error = await client.organizations({ deadline }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CoderDeadlineError);
    expect(error).toMatchObject({ kind: 'deadline', step: 'pacing', mayHaveTakenEffect: false });
    expect(seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('stops instead of sleeping a Retry-After past the deadline', async () => {
    const { client, seen, sleeps } = harness(() =>
      json(429, { message: 'limited' }, { 'Retry-After': '60' }),
    );
    const error = await client
      .organizations({ deadline: { remainingMs: () => 20_000 } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'deadline', step: 'retry-after', waitMs: 60_000 });
    expect((error as Error).message).toMatch(/ms left in this run/);
    expect(seen).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('gives up on an answer that would come after the deadline (a fractional time left included)', async () => {
    const { client } = harness((_req) => new Promise<Response>(() => {}));
    const error = await client
      .organizations({ deadline: { remainingMs: () => 330.7 } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'deadline', step: 'answer', mayHaveTakenEffect: false });
  });

  it("takes each call's own deadline, and leaves the next call of the shared client unbound", async () => {
    const { client, seen } = harness(() => json(200, []));
    await expect(client.organizations({ deadline: { remainingMs: () => 0 } })).rejects.toMatchObject({
      kind: 'deadline',
      step: 'send',
    });
    await client.organizations();
    expect(seen).toHaveLength(1);
    expect(client.stats().requests).toBe(1);
  });
});
