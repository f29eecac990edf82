import { afterEach, describe, expect, it } from 'vitest';
import {
  CODER_CAPABILITIES,
  CoderClient,
  type CoderRelease,
  coderReleaseOf,
  type LearnedRefusal,
  parseCoderVersion,
} from '../../../lambdas/adapters/coder/index.js';
import type { LogSink } from '../../../lambdas/core/contracts/log-sink.js';
import {
  CODER_VERSION_METRICS,
  coderReleaseHooks,
  coderReleaseReporter,
} from '../../../lambdas/wiring/coder-version.js';
import {
  CODER_VERSION_NAMES,
  type CoderSimulator,
  type CoderVersionName,
  DISAGREEING_PROFILES,
  type SimProfileName,
  startCoderSimulator,
} from '../../../sim/index.js';

/** A log sink that keeps `LEVEL message` lines, and a metrics sink that keeps datapoints. */
const recorders = () => {
  const lines: string[] = [];
  const metrics: Array<[string, number]> = [];
  const log: LogSink = {
    debug() {},
    info: (m) => lines.push(`INFO ${m}`),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
  };
  return {
    lines,
    metrics,
    log,
    sink: { addMetric: (name: string, _unit: unknown, value: number) => metrics.push([name, value]) },
  };
};

describe('Coder versions and capabilities', () => {
  it.each([
    ['v2.25.1+abcdef0', { major: 2, minor: 25, patch: 1 }],
    ['2.29.0', { major: 2, minor: 29, patch: 0 }],
    ['v2.37.0-devel+sim', { major: 2, minor: 37, patch: 0 }],
    ['devel', undefined],
  ])('parses %s', (text, expected) => {
    expect(parseCoderVersion(text)).toEqual(expected);
  });

  it.each([
    ['v2.20.3', 'older-than-supported', false],
    ['v2.25.0', 'supported', false],
    ['v2.26.0', 'supported', true],
    ['v2.37.2', 'supported', true],
    ['v2.41.0', 'newer-than-known', true],
    ['main', 'unknown', false],
  ] as const)('%s is %s; offline filter %s', (version, support, offlineFilter) => {
    const release = coderReleaseOf(version);
    expect(release.support).toBe(support);
    expect(release.capabilities.provisionerDaemonsOfflineFilter).toBe(offlineFilter);
    expect(release.capabilities.usersWorkspacesCreate).toBe(true);
  });

  // buildinfo/buildinfo.go: an untagged build reports develPrefix `v0.0.0-devel` (+<sha>); a commit
  // after a tag reports `<tag>-devel+<sha>`.
  it.each([
    ['v0.0.0-devel+5ac1e2f', 'newer-than-known', 'main', true],
    ['v0.0.0-devel', 'newer-than-known', 'main', true],
    ['0.0.0-devel+5ac1e2f', 'newer-than-known', 'main', true],
    ['v2.29.0-devel+5ac1e2f', 'supported', 'after-tag', true],
    ['v2.25.3-devel+5ac1e2f', 'supported', 'after-tag', false],
    ['v2.20.0-devel+5ac1e2f', 'older-than-supported', 'after-tag', false],
    ['v2.29.1+5ac1e2f', 'supported', undefined, true],
  ] as const)('%s is %s, a %s build; offline filter %s', (version, support, development, offlineFilter) => {
    const release = coderReleaseOf(version);
    expect(release).toMatchObject({ support, development });
    expect(release.capabilities.provisionerDaemonsOfflineFilter).toBe(offlineFilter);
  });

  it('a build of main is every release at once: every capability, no unsupported datapoint, one line saying so', () => {
    const { lines, metrics, log, sink } = recorders();

    const release = coderReleaseOf('v0.0.0-devel+5ac1e2f');
    coderReleaseReporter(log, sink)(release);

    expect(Object.values(release.capabilities).every(Boolean)).toBe(true);
    expect(metrics).toEqual([]);
    expect(lines).toEqual([
      "INFO Coder v0.0.0-devel+5ac1e2f is a build of Coder's main branch (v0.0.0-devel): newer than every release, so every capability in the release table is used",
    ]);
  });

  it('says a build after a tag is at least that release', () => {
    const { lines, log, sink } = recorders();
    coderReleaseReporter(log, sink)(coderReleaseOf('v2.29.0-devel+5ac1e2f'));
    expect(lines).toEqual([
      'INFO Coder v2.29.0-devel+5ac1e2f (a development build after v2.29.0: at least that release)',
    ]);
  });

  it('the table says where a release is a guess, and with which change', () => {
    expect(CODER_CAPABILITIES.paramSearch).toMatchObject({
      since: { major: 2, minor: 10 },
      release: 'verified',
      source: expect.stringContaining('coder/coder#12694'),
    });
    expect(CODER_CAPABILITIES.rateLimitByUser).toMatchObject({
      release: 'assumed',
      source: expect.stringMatching(/coder\/coder#22049 .*2\.31 or 2\.32, unverified/),
    });
    expect(CODER_CAPABILITIES.provisionerDaemonsOfflineFilter.release).toBe('assumed');
  });
});

describe.each(Object.keys(DISAGREEING_PROFILES) as SimProfileName[])(
  'the client where the release and the answer disagree: %s',
  (coderVersion) => {
    let sim: CoderSimulator;
    afterEach(() => sim.close());

    it('lists offline daemons by what Coder answers, learning a refusal once and logging it once', async () => {
      // Prepare
      sim = await startCoderSimulator({ coderVersion, buildDurationMs: 1, builtInProvisioners: 0 });
      sim.seed.provisionerKey({ name: 'k1' });
      sim.seed.provisionerDaemon({ name: 'online', keyName: 'k1' });
      sim.seed.provisionerDaemon({ name: 'gone', keyName: 'k1', status: 'offline' });
      const { lines, log, sink } = recorders();
      const learned: LearnedRefusal[] = [];
      const hooks = coderReleaseHooks(log, sink);
      const client = new CoderClient({
        baseUrl: sim.url,
        token: sim.adminToken,
        rateLimitPerMinute: false,
        onRelease: hooks.onRelease,
        onCapabilityLearned: (refusal) => {
          learned.push(refusal);
          hooks.onCapabilityLearned(refusal);
        },
      });

      // Act: three listings, one of them with a run's deadline.
      const listings = [];
      for (const deadline of [undefined, { remainingMs: () => 60_000 }, undefined]) {
        listings.push(await client.listProvisionerDaemons('coder', { offline: true, limit: 1000, deadline }));
      }

      // Assess: every listing has both daemons, whatever the release answered.
      for (const daemons of listings) expect(daemons.map((d) => d.name).sort()).toEqual(['gone', 'online']);
      const sent = sim
        .exchanges()
        .filter((e) => e.route === '/api/v2/organizations/{organization}/provisionerdaemons')
        .map((e) => [e.path.includes('offline=true'), e.status]);
      expect(sim.requestCounts()['GET /api/v2/buildinfo']).toBe(1);
      expect(lines.filter((l) => l.startsWith('ERROR'))).toEqual([]);
      if (sim.profile.provisionerDaemonFilters) {
        // A build of main: newer than every release, so `offline` is sent and accepted.
        expect(sent).toEqual([
          [true, 200],
          [true, 200],
          [true, 200],
        ]);
        expect(learned).toEqual([]);
      } else {
        // Reports v2.26 but refuses `offline`: one 400, one retry without it, then never again.
        expect(sent).toEqual([
          [true, 400],
          [false, 200],
          [false, 200],
          [false, 200],
        ]);
        expect(learned).toEqual([
          {
            capability: 'provisionerDaemonsOfflineFilter',
            reported: 'v2.26.0+sim',
            route: '/api/v2/organizations/{organization}/provisionerdaemons',
            answer: '400 "Invalid query parameters." for offline',
          },
        ]);
        expect(client.learnedRefusals()).toEqual(learned);
        expect(lines.filter((l) => l.startsWith('WARN'))).toEqual([
          'WARN Coder v2.26.0+sim refused provisionerDaemonsOfflineFilter (coder/coder#19378), which the release table assumed from v2.26.0: retried without it, and not used again by this container',
        ]);
      }
    });

    it('throws any other failure of the listing, and learns nothing from it', async () => {
      sim = await startCoderSimulator({ coderVersion, buildDurationMs: 1, builtInProvisioners: 0 });
      const client = new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false });
      // An unknown organization is a 404, whatever the release: not a refusal of `offline`.
      await expect(client.listProvisionerDaemons('no-such-org', { offline: true })).rejects.toMatchObject({
        status: 404,
      });
      expect(client.learnedRefusals()).toEqual([]);
    });
  },
);

describe.each(CODER_VERSION_NAMES)(
  'the client against the simulator at Coder %s',
  (coderVersion: CoderVersionName) => {
    let sim: CoderSimulator;
    afterEach(() => sim.close());

    const start = async () => {
      sim = await startCoderSimulator({ coderVersion, buildDurationMs: 1, builtInProvisioners: 0 });
      sim.seed.provisionerKey({ name: 'k1' });
      sim.seed.provisionerDaemon({ name: 'online', keyName: 'k1' });
      sim.seed.provisionerDaemon({ name: 'gone', keyName: 'k1', status: 'offline' });
    };

    it('lists offline daemons with what the release accepts, reading buildinfo once', async () => {
      await start();
      const client = new CoderClient({ baseUrl: sim.url, token: sim.adminToken, rateLimitPerMinute: false });
      for (let i = 0; i < 2; i++) {
        const daemons = await client.listProvisionerDaemons('coder', { offline: true, limit: 1000 });
        expect(daemons.map((d) => d.name).sort()).toEqual(['gone', 'online']);
      }
      const lists = sim
        .exchanges()
        .filter((e) => e.route === '/api/v2/organizations/{organization}/provisionerdaemons');
      const offlineSent = sim.profile.provisionerDaemonFilters;
      for (const list of lists) expect(list.path.includes('offline=true')).toBe(offlineSent);
      expect(sim.requestCounts()['GET /api/v2/buildinfo']).toBe(1);
    });

    it('reports the release once at first contact, with a metric for an unsupported one', async () => {
      await start();
      const releases: CoderRelease[] = [];
      const { lines, metrics, log, sink } = recorders();
      const report = coderReleaseReporter(log, sink);
      const client = new CoderClient({
        baseUrl: sim.url,
        token: sim.adminToken,
        rateLimitPerMinute: false,
        onRelease: (release) => {
          releases.push(release);
          report(release);
        },
      });
      await Promise.all([client.me(), client.listTemplates(), client.organizations()]);
      await client.me();
      expect(releases).toHaveLength(1);
      expect(sim.requestCounts()['GET /api/v2/buildinfo']).toBe(1);
      expect(sim.exchanges()[0]?.route).toBe('/api/v2/buildinfo');
      expect(lines).toHaveLength(1);
      if (sim.profile.supported) {
        expect(releases[0]?.support).toBe('supported');
        expect(metrics).toEqual([]);
      } else {
        expect(releases[0]?.support).toBe('older-than-supported');
        expect(lines[0]).toMatch(
          /^ERROR Coder v2\.20\.3\+sim is older than the oldest supported release \(v2\.25\.0\)/,
        );
        expect(metrics).toEqual([[CODER_VERSION_METRICS.unsupported, 1]]);
      }
    });

    it('answers offline=true the way the release does', async () => {
      await start();
      const res = await fetch(`${sim.url}/api/v2/organizations/coder/provisionerdaemons?offline=true`, {
        headers: { 'Coder-Session-Token': sim.adminToken },
      });
      const body = (await res.json()) as { message?: string };
      if (sim.profile.provisionerDaemonFilters) expect(res.status).toBe(200);
      else {
        // coderd/provisionerdaemons.go before coder/coder#19378: ErrorExcessParams.
        expect(res.status).toBe(400);
        expect(body.message).toBe('Invalid query parameters.');
      }
    });
  },
);
