import { afterEach, describe, expect, it } from 'vitest';
import {
  CoderClient,
  type CoderRelease,
  coderReleaseOf,
  parseCoderVersion,
} from '../../../lambdas/adapters/coder/index.js';
import type { LogSink } from '../../../lambdas/core/contracts/log-sink.js';
import { CODER_VERSION_METRICS, coderReleaseReporter } from '../../../lambdas/wiring/coder-version.js';
import {
  CODER_VERSION_NAMES,
  type CoderSimulator,
  type CoderVersionName,
  startCoderSimulator,
} from '../../../sim/index.js';

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
});

describe.each(CODER_VERSION_NAMES)(
  'the client against the simulator at Coder %s',
  (coderVersion: CoderVersionName) => {
    let sim: CoderSimulator;
    afterEach(() => sim.close());

    const start = async () => {
      sim = await startCoderSimulator({ coderVersion, buildDurationMs: 1 });
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
      const lines: string[] = [];
      const metrics: Array<[string, number]> = [];
      const log: LogSink = {
        debug() {},
        info: (m) => lines.push(`INFO ${m}`),
        warn: (m) => lines.push(`WARN ${m}`),
        error: (m) => lines.push(`ERROR ${m}`),
      };
      const report = coderReleaseReporter(log, {
        addMetric: (name, _unit, value) => metrics.push([name, value]),
      });
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
