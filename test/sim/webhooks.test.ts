import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CoderSimulator,
  NOTIFICATION_TEMPLATE_IDS,
  type NotificationMessage,
  startCoderSimulator,
} from '../../sim/index.js';
import { api, eventually } from './http.js';

interface Received {
  headers: Record<string, string | string[] | undefined>;
  body: NotificationMessage;
}

/**
 * A local webhook receiver; `failFirst` answers 503 to that many requests before accepting.
 * `answerDelayMs` holds each accepted request's answer after it has been counted as received, the
 * window in which a test that waits on the receiver reads a delivery log still missing it.
 */
async function startReceiver(
  failFirst = 0,
  answerDelayMs = 0,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  let failures = failFirst;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures > 0) {
        failures -= 1;
        res.writeHead(503).end();
        return;
      }
      received.push({
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as NotificationMessage,
      });
      setTimeout(() => res.writeHead(204).end(), answerDelayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, server };
}

let sim: CoderSimulator | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await sim?.close();
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  sim = undefined;
  receiver = undefined;
});

describe('notification webhook', () => {
  it('posts "Workspace Created" to every template admin with data.parameters and X-Message-Id', async () => {
    const hook = await startReceiver(0, 50);
    receiver = hook.server;
    sim = await startCoderSimulator({ webhookUrl: hook.url, buildDurationMs: 10 });
    const t = sim.seed.template({ name: 'docker', parameters: [{ name: 'region', defaultValue: 'eu' }] });
    sim.seed.user({ username: 'tadmin', roles: ['template-admin'] });
    const alice = sim.seed.user({ username: 'alice' });
    const res = await api<{ id: string; organization_id: string }>(
      sim,
      'POST',
      '/api/v2/users/alice/workspaces',
      {
        token: alice.token,
        body: { name: 'w1', template_id: t.id, rich_parameter_values: [{ name: 'region', value: 'us' }] },
      },
    );
    expect(res.status).toBe(201);
    // Wait on what the simulator recorded (it records a delivery after the receiver has answered),
    // not on the receiver, so every read below sees both deliveries complete.
    const deliveries = await eventually(
      () => sim?.webhookDeliveries() ?? [],
      (d) => d.length >= 2,
    );
    expect(deliveries.map((d) => d.status)).toEqual([204, 204]);
    expect(hook.received).toHaveLength(2);
    const recipients = hook.received.map((r) => r.body.payload.user_username).sort();
    expect(recipients).toEqual(['admin', 'tadmin']);
    const msg = hook.received[0] as Received;
    expect(msg.headers['content-type']).toBe('application/json');
    expect(msg.headers['x-message-id']).toBe(msg.body.msg_id);
    expect(msg.body._version).toBe('1.1');
    expect(msg.body.payload._version).toBe('1.2');
    expect(msg.body.payload.notification_name).toBe('Workspace Created');
    expect(msg.body.payload.notification_template_id).toBe(NOTIFICATION_TEMPLATE_IDS.workspaceCreated);
    expect(msg.body.payload.labels).toEqual({
      workspace: 'w1',
      template: 'docker',
      version: 'docker-v1',
      workspace_owner_username: 'alice',
    });
    expect(msg.body.payload.targets).toEqual([res.body.id, alice.id, t.id, res.body.organization_id]);
    expect(msg.body.payload.data).toMatchObject({
      workspace: { id: res.body.id, name: 'w1' },
      template: { id: t.id, name: 'docker' },
      owner: { id: alice.id, name: 'alice' },
      parameters: [{ name: 'region', value: 'us' }],
    });
    expect(new Set(hook.received.map((r) => r.body.msg_id)).size).toBe(2);
  });

  it('sends "Workspace Manually Updated" only for a new template version, and "Workspace Deleted" to the owner', async () => {
    const hook = await startReceiver();
    receiver = hook.server;
    sim = await startCoderSimulator({ webhookUrl: hook.url, buildDurationMs: 10 });
    const t = sim.seed.template({ name: 'docker', parameters: [{ name: 'size', defaultValue: 's' }] });
    const alice = sim.seed.user({ username: 'alice' });
    const ws = sim.seed.workspace({ owner: 'alice', name: 'w1', template: 'docker' });
    // coderd/workspacebuilds.go: a parameter change alone is not a manual update.
    const edit = await api(sim, 'POST', `/api/v2/workspaces/${ws.id}/builds`, {
      token: alice.token,
      body: { transition: 'start', rich_parameter_values: [{ name: 'size', value: 'm' }] },
    });
    expect(edit.status).toBe(201);
    sim.advanceBuilds();
    expect(sim.notifications()).toEqual([]);
    // Naming the version the workspace already runs (the simulator's templates have one) is no update either.
    const wsNow = await api<{ latest_build: { template_version_id: string } }>(
      sim,
      'GET',
      `/api/v2/workspaces/${ws.id}`,
    );
    expect(wsNow.body.latest_build.template_version_id).toBe(t.activeVersionId);
    const update = await api(sim, 'POST', `/api/v2/workspaces/${ws.id}/builds`, {
      token: alice.token,
      body: {
        transition: 'start',
        template_version_id: t.activeVersionId,
        rich_parameter_values: [{ name: 'size', value: 'l' }],
      },
    });
    expect(update.status).toBe(201);
    sim.advanceBuilds();
    expect(sim.notifications()).toEqual([]);
    await api(sim, 'POST', `/api/v2/workspaces/${ws.id}/builds`, { body: { transition: 'delete' } });
    sim.advanceBuilds();
    await eventually(
      () => hook.received.length,
      (n) => n === 1,
    );
    const [deleted] = hook.received.map((r) => r.body);
    await api(sim, 'POST', `/api/v2/workspaces/${ws.id}/builds`, { body: { transition: 'delete' } });
    sim.advanceBuilds();
    expect(deleted?.payload.notification_name).toBe('Workspace Deleted');
    expect(deleted?.payload.notification_template_id).toBe('f517da0b-cdc9-410f-ab89-a86107c420ed');
    expect(deleted?.payload.user_username).toBe('alice');
    expect(deleted?.payload.labels).toEqual({ name: 'w1', reason: 'initiated by user', initiator: 'admin' });
    expect(deleted?.payload.data).toBeNull();
  });

  it('does not notify owners who delete their own workspace, nor for a plain stop', async () => {
    sim = await startCoderSimulator({ buildDurationMs: 10 });
    sim.seed.template({ name: 'docker' });
    const alice = sim.seed.user({ username: 'alice' });
    const ws = sim.seed.workspace({ owner: 'alice', name: 'w1', template: 'docker' });
    await api(sim, 'POST', `/api/v2/workspaces/${ws.id}/builds`, {
      token: alice.token,
      body: { transition: 'stop' },
    });
    sim.advanceBuilds();
    await api(sim, 'POST', `/api/v2/workspaces/${ws.id}/builds`, {
      token: alice.token,
      body: { transition: 'delete' },
    });
    sim.advanceBuilds();
    expect(sim.workspacesSnapshot({ includeDeleted: true })[0]?.deleted).toBe(true);
    expect(sim.notifications()).toEqual([]);
  });

  it('retries failed deliveries and records every attempt', async () => {
    // A receiver slow to answer its accepted request: the delivery is received well before it is recorded.
    const hook = await startReceiver(2, 100);
    receiver = hook.server;
    sim = await startCoderSimulator({ webhookUrl: hook.url, webhookRetry: { intervalMs: 10 } });
    const t = sim.seed.template({ name: 'docker' });
    const alice = sim.seed.user({ username: 'alice' });
    await api(sim, 'POST', '/api/v2/users/alice/workspaces', {
      token: alice.token,
      body: { name: 'w1', template_id: t.id },
    });
    // Wait on the simulator's delivery log until the third attempt is recorded. The receiver sees the
    // third request before the simulator records its answer, so waiting on the receiver raced.
    const deliveries = await eventually(
      () => sim?.webhookDeliveries() ?? [],
      (d) => d.length >= 3,
    );
    expect(deliveries.map((d) => [d.attempt, d.status])).toEqual([
      [1, 503],
      [2, 503],
      [3, 204],
    ]);
    expect(hook.received).toHaveLength(1);
  });

  it('records network errors when the receiver is down and gives up after the configured attempts', async () => {
    sim = await startCoderSimulator({
      webhookUrl: 'http://127.0.0.1:9/unreachable',
      webhookRetry: { attempts: 2, intervalMs: 5 },
    });
    const t = sim.seed.template({ name: 'docker' });
    const alice = sim.seed.user({ username: 'alice' });
    const res = await api(sim, 'POST', '/api/v2/users/alice/workspaces', {
      token: alice.token,
      body: { name: 'w1', template_id: t.id },
    });
    expect(res.status).toBe(201);
    const deliveries = await eventually(
      () => sim?.webhookDeliveries() ?? [],
      (d) => d.length === 2,
    );
    expect(deliveries.map((d) => d.status)).toEqual(['error', 'error']);
  });
});

describe('notification payloads per Coder release', () => {
  it('leaves payload.targets out before coder/coder#16985 and keeps it from the oldest supported release on', async () => {
    for (const [coderVersion, hasTargets] of [
      ['2.20', false],
      ['2.25', true],
    ] as const) {
      const s = await startCoderSimulator({ buildDurationMs: 10, coderVersion });
      try {
        s.seed.template({ name: 'docker' });
        s.seed.user({ username: 'alice' });
        const ws = s.seed.workspace({ owner: 'alice', name: 'w1', template: 'docker' });
        await api(s, 'POST', `/api/v2/workspaces/${ws.id}/builds`, { body: { transition: 'delete' } });
        s.advanceBuilds();
        const [deleted] = s.notifications();
        expect(deleted?.payload.notification_name, coderVersion).toBe('Workspace Deleted');
        expect('targets' in (deleted?.payload ?? {}), coderVersion).toBe(hasTargets);
      } finally {
        await s.close();
      }
    }
  });

  it('does not send "Workspace Created" to the template admin who created the workspace', async () => {
    sim = await startCoderSimulator({ buildDurationMs: 10 });
    const t = sim.seed.template({ name: 'docker' });
    const res = await api(sim, 'POST', '/api/v2/users/admin/workspaces', {
      body: { name: 'w1', template_id: t.id },
    });
    expect(res.status).toBe(201);
    expect(sim.notifications()).toEqual([]);
  });
});
