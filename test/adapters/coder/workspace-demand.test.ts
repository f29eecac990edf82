import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoderClient } from '../../../lambdas/adapters/coder/index.js';
import {
  CoderWorkspaceDemand,
  type DemandWorkspace,
  nextAutostart,
  WorkspaceListUnsettledError,
} from '../../../lambdas/adapters/coder/workspace-demand.js';
import { NO_DEADLINE } from '../../../lambdas/core/contracts/deadline.js';
import { type CoderSimulator, startCoderSimulator } from '../../../sim/index.js';

const FROM = new Date('2026-03-09T10:40:00Z'); // Mon 06:40 EDT
const TO = new Date('2026-03-09T11:40:00Z');
const call = { deadline: NO_DEADLINE };
const minutesAfter = (minutes: number) => new Date(FROM.getTime() + minutes * 60_000).toISOString();

describe('CoderWorkspaceDemand against the Coder simulator', () => {
  let sim: CoderSimulator;
  let demand: CoderWorkspaceDemand;

  beforeAll(async () => {
    sim = await startCoderSimulator({ buildDurationMs: 10 });
    sim.seed.user({ username: 'alice' });
    sim.seed.template({ name: 'k8s-dev', allowUserAutostart: true });
    sim.seed.template({ name: 'ec2-gpu', allowUserAutostart: true });
    const ws = (
      name: string,
      template: string,
      extra: Parameters<CoderSimulator['seed']['workspace']>[0] extends infer T ? Partial<T> : never,
    ) => sim.seed.workspace({ owner: 'alice', name, template, ...extra });
    for (let i = 1; i <= 3; i++) ws(`run-${i}`, 'k8s-dev', { status: 'running' });
    ws('run-gpu', 'ec2-gpu', { status: 'running' });
    ws('soon-1', 'k8s-dev', {
      status: 'stopped',
      autostartSchedule: 'CRON_TZ=America/New_York 0 7 * * 1-5',
      nextStartAt: minutesAfter(20),
    });
    ws('soon-2', 'k8s-dev', {
      status: 'stopped',
      autostartSchedule: 'CRON_TZ=America/New_York 30 7 * * 1-5',
      nextStartAt: minutesAfter(50),
    });
    ws('soon-gpu', 'ec2-gpu', {
      status: 'stopped',
      autostartSchedule: 'CRON_TZ=America/New_York 0 7 * * 1-5',
      nextStartAt: minutesAfter(20),
    });
    ws('later', 'k8s-dev', {
      status: 'stopped',
      autostartSchedule: 'CRON_TZ=America/New_York 0 9 * * 1-5',
      nextStartAt: minutesAfter(140),
    });
    ws('no-schedule', 'k8s-dev', { status: 'stopped', nextStartAt: null });
    // The server did not compute next_start_at: the schedule is evaluated here (07:15 EDT = 11:15Z).
    ws('cron-only', 'k8s-dev', {
      status: 'stopped',
      autostartSchedule: 'CRON_TZ=America/New_York 15 7 * * 1-5',
      nextStartAt: null,
    });
    // Running already: not an autostart.
    ws('running-soon', 'k8s-dev', {
      status: 'running',
      autostartSchedule: 'CRON_TZ=America/New_York 0 7 * * 1-5',
      nextStartAt: minutesAfter(20),
    });
    demand = new CoderWorkspaceDemand(new CoderClient({ baseUrl: sim.url, token: sim.adminToken }));
  });

  afterAll(async () => {
    await sim.close();
  });

  const lastSearchQuery = (): string | null | undefined => {
    const search = sim
      .exchanges()
      .filter((e) => e.route === '/api/v2/workspaces')
      .at(-1);
    return search && new URL(search.path, sim.url).searchParams.get('q');
  };

  const searchQueries = (): Array<string | null> =>
    sim
      .exchanges()
      .filter((e) => e.route === '/api/v2/workspaces')
      .map((e) => new URL(e.path, sim.url).searchParams.get('q'));

  it('counts running workspaces through q=status:running, for all templates or per template', async () => {
    sim.clearExchanges();
    expect(await demand.countRunning(undefined, call)).toBe(5);
    expect(await demand.countRunning(['k8s-dev'], call)).toBe(4);
    expect(await demand.countRunning(['ec2-gpu', 'other'], call)).toBe(1);
    // The per-template reads go out together: compare without their order.
    expect(searchQueries().sort()).toEqual([
      'status:running',
      'status:running template:ec2-gpu',
      'status:running template:k8s-dev',
      'status:running template:other',
    ]);
  });

  it('matches template names as Coder does, case-insensitively (issue 19, finding 3)', async () => {
    // A config naming Kubernetes-Multi for Coder's kubernetes-multi counted 0 running workspaces.
    expect(await demand.countRunning(['K8S-Dev'], call)).toBe(4);
    expect(await demand.countRunning(['k8s-dev', 'K8S-DEV'], call)).toBe(4);
    expect(await demand.countAutostartingBetween(FROM, TO, ['K8s-Dev'], call)).toBe(3);
  });

  it("lists Coder's template names in one request", async () => {
    sim.resetRequestCounts();
    expect([...(await demand.listTemplateNames(call))].sort()).toEqual(['ec2-gpu', 'k8s-dev']);
    expect(sim.requestCounts()).toEqual({ 'GET /api/v2/templates': 1 });
  });

  it("reads within the run's deadline: with no time left it sends nothing and says it is out of time", async () => {
    // Prepare
    const spent = { deadline: { remainingMs: () => 0 } };
    sim.resetRequestCounts();

    // Act, Assess: each read stops before sending, with an error the scaler counts as a clean stop.
    await expect(demand.countRunning(['k8s-dev'], spent)).rejects.toMatchObject({ kind: 'deadline' });
    await expect(demand.countAutostartingBetween(FROM, TO, undefined, spent)).rejects.toMatchObject({
      kind: 'deadline',
    });
    await expect(demand.listTemplateNames(spent)).rejects.toMatchObject({ kind: 'deadline' });
    expect(sim.requestCounts()).toEqual({});
  });

  it('counts stopped workspaces that will autostart within the window', async () => {
    expect(await demand.countAutostartingBetween(FROM, TO, undefined, call)).toBe(4);
    expect(await demand.countAutostartingBetween(FROM, TO, ['k8s-dev'], call)).toBe(3);
    expect(
      await demand.countAutostartingBetween(FROM, new Date(FROM.getTime() + 30 * 60_000), ['k8s-dev'], call),
    ).toBe(1);
    expect(lastSearchQuery()).toBe('status:stopped template:k8s-dev');
  });
});

describe('CoderWorkspaceDemand filtering', () => {
  const workspace = (overrides: Partial<DemandWorkspace>): DemandWorkspace => ({
    template_name: 'k8s-dev',
    dormant_at: null,
    next_start_at: minutesAfter(10),
    autostart_schedule: 'CRON_TZ=UTC 50 10 * * *',
    ...overrides,
  });

  it('skips dormant workspaces, and counts the window ends inclusively', async () => {
    const queries: Array<string | undefined> = [];
    const demand = new CoderWorkspaceDemand({
      listTemplates: async () => [],
      listWorkspaces: async ({ q }) => {
        queries.push(q);
        return {
          complete: true,
          count: 5,
          workspaces: [
            workspace({}),
            workspace({ dormant_at: '2026-03-01T00:00:00Z' }),
            workspace({ next_start_at: FROM.toISOString() }),
            workspace({ next_start_at: TO.toISOString() }),
            workspace({ next_start_at: new Date(TO.getTime() + 1000).toISOString() }),
          ],
        };
      },
    });
    expect(await demand.countAutostartingBetween(FROM, TO, undefined, call)).toBe(3);
    expect(queries).toEqual(['status:stopped']);
  });

  it("counts running workspaces from Coder's largest total, never from rows a moving list may have skipped", async () => {
    // Prepare: one read in which a row was skipped at a page boundary (3 rows for a total of 4).
    const options: Array<{ q?: string; rereads?: number }> = [];
    const demand = new CoderWorkspaceDemand({
      listTemplates: async () => [],
      listWorkspaces: async (o) => {
        options.push(o);
        return { complete: false, count: 4, workspaces: [workspace({}), workspace({}), workspace({})] };
      },
    });

    // Act, Assess: the total counts, read once (a re-read could not make it more trustworthy).
    expect(await demand.countRunning(undefined, call)).toBe(4);
    expect(options).toEqual([{ q: 'status:running', rereads: 0, deadline: NO_DEADLINE }]);
  });

  it('refuses autostart rows from a list that moved on every read (a short count would pre-warm too little)', async () => {
    const demand = new CoderWorkspaceDemand({
      listTemplates: async () => [],
      listWorkspaces: async () => ({ complete: false, count: 1, workspaces: [workspace({})] }),
    });
    await expect(demand.countAutostartingBetween(FROM, TO, undefined, call)).rejects.toBeInstanceOf(
      WorkspaceListUnsettledError,
    );
    await expect(demand.countAutostartingBetween(FROM, TO, undefined, call)).rejects.toThrow(
      /keeping current capacity/,
    );
  });

  it('evaluates Coder cron schedules with CRON_TZ across DST', () => {
    expect(
      nextAutostart('CRON_TZ=America/New_York 0 7 * * 1-5', new Date('2026-03-06T13:00:00Z'))?.toISOString(),
    ).toBe('2026-03-09T11:00:00.000Z');
    expect(
      nextAutostart('CRON_TZ=America/New_York 0 7 * * 1-5', new Date('2026-03-09T11:00:00Z'))?.toISOString(),
    ).toBe('2026-03-09T11:00:00.000Z');
    expect(nextAutostart('30 9 * * 1-5', new Date('2026-03-09T00:00:00Z'))?.toISOString()).toBe(
      '2026-03-09T09:30:00.000Z',
    );
    expect(nextAutostart('not a schedule', FROM)).toBeUndefined();
  });
});
