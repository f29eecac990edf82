/** Provisioner keys and provisioner daemons. */
import { CoderApiError, notFound } from '../errors.js';
import { RESERVED_KEYS, type SimOrganization, type SimUser } from '../model.js';
import { provisionerDaemonQueryRule, type SimProfile } from '../profiles/index.js';
import { daemonJson, daemonStatus, provisionerKeyJson, pseudoKeyJson } from '../serialize.js';
import { canManageProvisioners } from '../state/roles.js';
import type { SimState } from '../state.js';
import {
  asObject,
  headerValue,
  param,
  queryInt,
  type RequestContext,
  type Route,
  type RouteEnv,
  session,
} from './context.js';
import { rejectExcessParams } from './query.js';

/** Daemons listed per key must have been seen within three heartbeats. */
const KEY_DAEMONS_MAX_AGE_MS = 180_000;

export function provisionerRoutes({ state, profile }: RouteEnv): Route[] {
  /** `{organization}` for the provisioner routes, which answer 404 to callers who cannot manage them. */
  const managedOrg = (ctx: RequestContext, caller: SimUser): SimOrganization => {
    const org = state.resolveOrg(param(ctx, 'organization'), caller);
    if (!canManageProvisioners(caller)) throw notFound();
    return org;
  };

  return [
    session('GET', '/api/v2/organizations/{organization}/provisionerkeys', (ctx, caller) => {
      const org = managedOrg(ctx, caller);
      const keys = [...state.keys.values()].filter((k) => k.orgId === org.id);
      return { status: 200, body: keys.map(provisionerKeyJson) };
    }),
    session('POST', '/api/v2/organizations/{organization}/provisionerkeys', (ctx, caller) => {
      const org = managedOrg(ctx, caller);
      const key = state.createProvisionerKey(org, asObject(ctx.json()));
      return { status: 201, body: { key: key.secret } };
    }),
    session('GET', '/api/v2/organizations/{organization}/provisionerkeys/daemons', (ctx, caller) => {
      const org = managedOrg(ctx, caller);
      state.heartbeat();
      const now = state.scheduler.now();
      const recent = (keyId: string) =>
        [...state.daemons.values()]
          .filter(
            (d) =>
              d.orgId === org.id &&
              d.keyId === keyId &&
              now - Date.parse(d.lastSeenAt) <= KEY_DAEMONS_MAX_AGE_MS,
          )
          .map((d) => daemonJson(state, d, now));
      const userAuth = RESERVED_KEYS.find((k) => k.name === 'user-auth');
      const entries = [...state.keys.values()]
        .filter((k) => k.orgId === org.id)
        .map((k) => ({ key: provisionerKeyJson(k), daemons: recent(k.id) }));
      if (userAuth !== undefined)
        entries.push({ key: pseudoKeyJson(org, 'user-auth'), daemons: recent(userAuth.id) });
      return { status: 200, body: entries };
    }),
    session(
      'DELETE',
      '/api/v2/organizations/{organization}/provisionerkeys/{provisionerkey}',
      (ctx, caller) => {
        const org = managedOrg(ctx, caller);
        state.deleteProvisionerKey(org, param(ctx, 'provisionerkey'));
        return { status: 204 };
      },
    ),
    {
      // Authenticated only by the Coder-Provisioner-Daemon-Key header; the path segment is ignored.
      method: 'GET',
      template: '/api/v2/provisionerkeys/{provisionerkey}',
      auth: 'none',
      handle: (ctx) => {
        const key = headerValue(ctx.headers, 'coder-provisioner-daemon-key');
        const psk = headerValue(ctx.headers, 'coder-provisioner-daemon-psk');
        if (key !== undefined && psk !== undefined) {
          throw new CoderApiError(400, 'provisioner daemon key and psk provided, but only one is allowed');
        }
        if (key === undefined) throw new CoderApiError(401, 'provisioner daemon auth token required');
        if (key.length !== 43) {
          throw new CoderApiError(400, 'provisioner daemon key invalid', {
            detail: 'key must be 43 characters',
          });
        }
        const found = state.keyBySecret(key);
        if (found === undefined) throw new CoderApiError(401, 'provisioner daemon key invalid');
        return { status: 200, body: provisionerKeyJson(found) };
      },
    },
    session('GET', '/api/v2/organizations/{organization}/provisionerdaemons', (ctx, caller) => {
      const org = managedOrg(ctx, caller);
      return { status: 200, body: listDaemons(state, org.id, ctx.url, profile) };
    }),
  ];
}

/** Go duration strings such as `90s`, `5m`, `1h30m`. */
function parseGoDurationMs(raw: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of raw.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total += n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
    consumed += m[0].length;
  }
  return consumed === raw.length && consumed > 0 ? total : undefined;
}

function listDaemons(state: SimState, orgId: string, url: URL, profile: SimProfile): unknown[] {
  const rule = provisionerDaemonQueryRule(profile);
  rejectExcessParams(url, rule.params);
  state.heartbeat();
  const now = state.scheduler.now();
  const limit = queryInt(url, 'limit', 50);
  const statuses = (url.searchParams.get('status') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const s of statuses) {
    if (s !== 'offline' && s !== 'idle' && s !== 'busy') {
      throw new CoderApiError(400, 'Invalid query parameters.', {
        validations: [{ field: 'status', detail: `"${s}" is not a valid provisioner daemon status` }],
      });
    }
  }
  const includeOffline =
    rule.offlineByDefault || url.searchParams.get('offline') === 'true' || statuses.includes('offline');
  const ids = (url.searchParams.get('ids') ?? '').split(',').filter((s) => s !== '');
  let tags: Record<string, string> = {};
  const rawTags = url.searchParams.get('tags');
  if (rawTags !== null && rawTags !== '') {
    try {
      tags = JSON.parse(rawTags) as Record<string, string>;
    } catch {
      throw new CoderApiError(400, 'Invalid query parameters.', {
        validations: [{ field: 'tags', detail: 'tags must be a JSON object' }],
      });
    }
  }
  const maxAgeRaw = url.searchParams.get('max_age');
  const maxAge = maxAgeRaw === null || maxAgeRaw === '' ? undefined : parseGoDurationMs(maxAgeRaw);
  if (maxAgeRaw !== null && maxAgeRaw !== '' && maxAge === undefined) {
    throw new CoderApiError(400, 'Invalid query parameters.', {
      validations: [{ field: 'max_age', detail: `invalid duration "${maxAgeRaw}"` }],
    });
  }
  return [...state.daemons.values()]
    .filter((d) => d.orgId === orgId)
    .filter((d) => {
      const status = daemonStatus(d, now);
      if (statuses.length > 0 && !statuses.includes(status)) return false;
      if (!includeOffline && status === 'offline') return false;
      if (ids.length > 0 && !ids.includes(d.id)) return false;
      if (maxAge !== undefined && now - Date.parse(d.lastSeenAt) > maxAge) return false;
      return Object.entries(tags).every(([k, v]) => d.tags[k] === v);
    })
    .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
    .slice(0, limit === 0 ? undefined : limit)
    .map((d) => daemonJson(state, d, now));
}
