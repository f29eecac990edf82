import { afterEach, describe, expect, it } from 'vitest';
import { type CoderSimulator, startCoderSimulator } from '../../sim/index.js';
import { goDuration } from '../../sim/rate-limit.js';
import { api, eventually } from './http.js';

let sim: CoderSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('authentication and basics', () => {
  it('serves /healthz and buildinfo without a token and 401s other routes', async () => {
    sim = await startCoderSimulator();
    const health = await fetch(`${sim.url}/healthz`);
    expect(await health.text()).toBe('OK');
    expect((await api(sim, 'GET', '/api/v2/buildinfo', { token: null })).status).toBe(200);
    const missing = await api<{ message: string; detail: string }>(sim, 'GET', '/api/v2/users/me', {
      token: null,
    });
    expect(missing.status).toBe(401);
    expect(missing.body.message).toMatch(/^You are signed out or your session has expired/);
    expect(
      (await api(sim, 'GET', '/api/v2/users/me', { token: 'abcdefghij-0123456789012345678901' })).status,
    ).toBe(401);
  });

  it('accepts the session header and a bearer token, and resolves me/default', async () => {
    sim = await startCoderSimulator();
    const me = await api<{ username: string; roles: Array<{ name: string }> }>(
      sim,
      'GET',
      '/api/v2/users/me',
    );
    expect(me.body.username).toBe('admin');
    expect(me.body.roles.map((r) => r.name)).toEqual(['owner']);
    const bearer = await api(sim, 'GET', '/api/v2/users/me', {
      token: null,
      headers: { Authorization: `Bearer ${sim.adminToken}` },
    });
    expect(bearer.status).toBe(200);
    expect(sim.adminToken).toMatch(/^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/);
    const orgs = await api<Array<{ name: string; is_default: boolean; id: string }>>(
      sim,
      'GET',
      '/api/v2/organizations',
    );
    expect(orgs.body).toEqual([expect.objectContaining({ name: 'coder', is_default: true })]);
    const byAlias = await api<{ id: string }>(sim, 'GET', '/api/v2/organizations/default');
    expect(byAlias.body.id).toBe(orgs.body[0]?.id);
    expect((await api(sim, 'GET', '/api/v2/organizations/coder')).status).toBe(200);
    expect((await api(sim, 'GET', '/api/v2/organizations/nope')).status).toBe(404);
  });

  it('answers 400 for invalid JSON, 413 over 1 MiB, 404 and 405 for unknown routes', async () => {
    sim = await startCoderSimulator();
    const path = '/api/v2/organizations/default/provisionerkeys';
    const bad = await api<{ message: string }>(sim, 'POST', path, {
      rawBody: '{nope',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe('Request body must be valid JSON.');
    const huge = await api(sim, 'POST', path, {
      body: { name: 'x', tags: { big: 'y'.repeat(1024 * 1024) } },
    });
    expect(huge.status).toBe(413);
    expect((await api(sim, 'GET', '/api/v2/nothing-here')).status).toBe(404);
    expect((await api(sim, 'PATCH', '/api/v2/buildinfo')).status).toBe(405);
  });

  it('counts requests per swagger route template', async () => {
    sim = await startCoderSimulator();
    await api(sim, 'GET', '/api/v2/users/me');
    await api(sim, 'GET', '/api/v2/users/admin');
    await api(sim, 'GET', '/api/v2/organizations/default');
    expect(sim.requestCounts()).toEqual({
      'GET /api/v2/users/{user}': 2,
      'GET /api/v2/organizations/{organization}': 1,
    });
    expect(sim.totalRequests()).toBe(3);
    sim.resetRequestCounts();
    expect(sim.totalRequests()).toBe(0);
  });
});

describe('rate limiting', () => {
  it('formats windows like Go durations', () => {
    expect(goDuration(60_000)).toBe('1m0s');
    expect(goDuration(1_000)).toBe('1s');
    expect(goDuration(1_500)).toBe('1.5s');
    expect(goDuration(500)).toBe('500ms');
    expect(goDuration(3_600_000)).toBe('1h0m0s');
  });

  it('limits per user per route with 429, Retry-After and X-RateLimit headers', async () => {
    sim = await startCoderSimulator({ rateLimit: { perMinute: 3, windowMs: 1500 } });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof api>> | undefined;
    for (let i = 0; i < 4; i++) {
      last = await api(sim, 'GET', '/api/v2/users/me');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last?.body).toEqual({
      message: "You've been rate limited for sending more than 3 requests in 1.5s.",
    });
    expect(last?.headers.get('retry-after')).toBe('2');
    expect(last?.headers.get('x-ratelimit-limit')).toBe('3');
    expect(last?.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(last?.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000 - 1);
    // Another route has its own budget, and so does another user.
    const other = await api(sim, 'GET', '/api/v2/organizations');
    expect(other.status).toBe(200);
    expect(other.headers.get('x-ratelimit-remaining')).toBe('2');
    const user = sim.seed.user({ username: 'u1' });
    expect((await api(sim, 'GET', '/api/v2/users/me', { token: user.token })).status).toBe(200);
  });

  it('keys by the concrete path, method ignored, per user by default and per address before #22049', async () => {
    sim = await startCoderSimulator({ rateLimit: { perMinute: 2, windowMs: 60_000 } });
    const org = 'coder';
    // GET and POST on one path share its bucket; the path, not the route template, is the key.
    expect((await api(sim, 'GET', `/api/v2/organizations/${org}/provisionerkeys`)).status).toBe(200);
    const post = await api(sim, 'POST', `/api/v2/organizations/${org}/provisionerkeys`, {
      body: { name: 'k1' },
    });
    expect(post.status).toBe(201);
    expect((await api(sim, 'GET', `/api/v2/organizations/${org}/provisionerkeys`)).status).toBe(429);
    expect((await api(sim, 'GET', `/api/v2/organizations/${org}/provisionerkeys?x=1`)).status).toBe(429);
    expect((await api(sim, 'GET', '/api/v2/organizations/default/provisionerkeys')).status).toBe(200);
    // Per user: another user on the same path has a budget of its own.
    const user = sim.seed.user({ username: 'u1' });
    expect((await api(sim, 'GET', '/api/v2/users/me', { token: user.token })).status).toBe(200);
    await sim.close();

    sim = await startCoderSimulator({
      rateLimit: { perMinute: 2, windowMs: 60_000, keyBy: 'client-address' },
    });
    const other = sim.seed.user({ username: 'u2' });
    expect((await api(sim, 'GET', '/api/v2/users/me')).status).toBe(200);
    expect((await api(sim, 'GET', '/api/v2/users/me', { token: other.token })).status).toBe(200);
    // Both users come from 127.0.0.1: one budget.
    expect((await api(sim, 'GET', '/api/v2/users/me', { token: other.token })).status).toBe(429);
  });

  // coderd/httpmw/ratelimit.go's key function; httprate answers its error with http.Error(..., 428).
  it('from #22049 on: an Owner bypasses with X-Coder-Bypass-Ratelimit, a member gets 428 as plain text, an anonymous caller is keyed by address', async () => {
    sim = await startCoderSimulator({ coderVersion: '2.37', rateLimit: { perMinute: 1, windowMs: 60_000 } });
    const bypass = { 'X-Coder-Bypass-Ratelimit': 'true' };
    for (let i = 0; i < 3; i++) {
      const owner = await api(sim, 'GET', '/api/v2/users/me', { headers: bypass });
      expect(owner.status).toBe(200);
      // A fresh random key each time: httprate's headers for a key it has never seen.
      expect(owner.headers.get('x-ratelimit-remaining')).toBe('0');
    }
    const member = sim.seed.user({ username: 'u1' });
    const refused = await api(sim, 'GET', '/api/v2/users/me', { token: member.token, headers: bypass });
    expect(refused.status).toBe(428);
    expect(refused.body).toBe('"X-Coder-Bypass-Ratelimit" provided but user is not owner\n');
    expect(refused.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    expect(refused.headers.get('x-ratelimit-limit')).toBeNull();
    // Go's strconv.ParseBool: "1" and "True" ask too; "yes" does not (a parse error is "no").
    for (const value of ['1', 'True']) {
      const res = await api(sim, 'GET', '/api/v2/users/me', {
        token: member.token,
        headers: { 'X-Coder-Bypass-Ratelimit': value },
      });
      expect(res.status).toBe(428);
    }
    expect(
      (
        await api(sim, 'GET', '/api/v2/users/me', {
          token: member.token,
          headers: { 'X-Coder-Bypass-Ratelimit': 'yes' },
        })
      ).status,
    ).toBe(200);
    // No API key: keyed by address, never 428, whatever the header says (then 401 from the route).
    const anonymous = await api(sim, 'GET', '/api/v2/organizations', { token: null, headers: bypass });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await api(sim, 'GET', '/api/v2/organizations', { token: null, headers: bypass })).status).toBe(
      429,
    );
  });

  it('before #22049 the header is ignored entirely: no bypass for an Owner, no 428 for anyone (coder/coder#20857)', async () => {
    sim = await startCoderSimulator({ coderVersion: '2.29', rateLimit: { perMinute: 1, windowMs: 60_000 } });
    const bypass = { 'X-Coder-Bypass-Ratelimit': 'true' };
    expect((await api(sim, 'GET', '/api/v2/users/me', { headers: bypass })).status).toBe(200);
    expect((await api(sim, 'GET', '/api/v2/users/me', { headers: bypass })).status).toBe(429);
    const member = sim.seed.user({ username: 'u1' });
    // Same address, same path: the member shares the Owner's spent budget, and is not told 428.
    const res = await api(sim, 'GET', '/api/v2/users/me', { token: member.token, headers: bypass });
    expect(res.status).toBe(429);
  });

  it('recovers after the window slides', async () => {
    sim = await startCoderSimulator({ rateLimit: { perMinute: 2, windowMs: 200 } });
    await api(sim, 'GET', '/api/v2/users/me');
    await api(sim, 'GET', '/api/v2/users/me');
    expect((await api(sim, 'GET', '/api/v2/users/me')).status).toBe(429);
    await new Promise((r) => setTimeout(r, 450));
    expect((await api(sim, 'GET', '/api/v2/users/me')).status).toBe(200);
  });
});

describe('fault injection', () => {
  it('injects 5xx before the handler without side effects', async () => {
    sim = await startCoderSimulator({ faults: { errorRate: 1, seed: 7 } });
    const res = await api<{ message: string }>(sim, 'POST', '/api/v2/organizations/default/provisionerkeys', {
      body: { name: 'k' },
    });
    expect([500, 502, 503]).toContain(res.status);
    expect(typeof res.body.message).toBe('string');
    sim.setFaults(undefined);
    expect((await api(sim, 'GET', '/api/v2/organizations/default/provisionerkeys')).body).toEqual([]);
  });

  it('injects 500 after the change was applied', async () => {
    sim = await startCoderSimulator({ faults: { errorAfterEffectRate: 1 } });
    const res = await api(sim, 'POST', '/api/v2/organizations/default/provisionerkeys', {
      body: { name: 'k' },
    });
    expect(res.status).toBe(500);
    sim.setFaults(undefined);
    const keys = await api<Array<{ name: string }>>(
      sim,
      'GET',
      '/api/v2/organizations/default/provisionerkeys',
    );
    expect(keys.body.map((k) => k.name)).toEqual(['k']);
  });

  it('sends a burst of 429s with Retry-After, then recovers', async () => {
    sim = await startCoderSimulator({ faults: { rateLimitBurst: 2, rateLimitBurstRetryAfterSeconds: 3 } });
    const a = await api(sim, 'GET', '/api/v2/users/me');
    const b = await api(sim, 'GET', '/api/v2/users/me');
    const c = await api(sim, 'GET', '/api/v2/users/me');
    expect([a.status, b.status, c.status]).toEqual([429, 429, 200]);
    expect(a.headers.get('retry-after')).toBe('3');
  });

  it('adds latency and holds sockets open for timeouts until the client gives up', async () => {
    sim = await startCoderSimulator({ faults: { latencyMs: 80 } });
    const started = Date.now();
    await api(sim, 'GET', '/api/v2/users/me');
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    sim.setFaults({ timeoutRate: 1 });
    await expect(
      fetch(`${sim.url}/api/v2/users/me`, {
        headers: { 'Coder-Session-Token': sim.adminToken },
        signal: AbortSignal.timeout(150),
      }),
    ).rejects.toThrow();
  });

  it('applies faults only to the listed routes, repeatably under a seed', async () => {
    const route = 'GET /api/v2/organizations';
    sim = await startCoderSimulator({ faults: { errorRate: 0.5, seed: 42, routes: [route] } });
    const run = async () => {
      const out: number[] = [];
      for (let i = 0; i < 12; i++)
        out.push((await api(sim as CoderSimulator, 'GET', '/api/v2/organizations')).status);
      return out;
    };
    const first = await run();
    expect(first.some((s) => s >= 500)).toBe(true);
    expect(first.some((s) => s === 200)).toBe(true);
    sim.setFaults({ errorRate: 0.5, seed: 42, routes: [route] });
    expect(await run()).toEqual(first);
    expect((await api(sim, 'GET', '/api/v2/users/me')).status).toBe(200);
  });

  it('closes promptly with a held socket and pending builds', async () => {
    sim = await startCoderSimulator({ faults: { timeoutRate: 1 }, buildDurationMs: 60_000 });
    const hanging = fetch(`${sim.url}/api/v2/users/me`).catch((err: unknown) => err);
    // Wait until the simulator holds the request (it counts it on arrival), not for a fixed time.
    await eventually(
      () => sim?.totalRequests() ?? 0,
      (n) => n === 1,
    );
    const started = Date.now();
    await sim.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await hanging).toBeInstanceOf(Error);
  });
});
