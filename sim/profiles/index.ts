/**
 * Coder release profiles: what the simulator does differently per release, for everything the
 * controller touches. Each profile is data; each rule below cites the Coder file or pull request
 * it comes from (read in coder/coder's source, not from release notes). Behaviour that is the
 * same in every profile lives with the route or state it belongs to.
 */

import type { RateLimitKeyBy } from '../rate-limit.js';

export type { RateLimitKeyBy };

export interface SimProfile {
  /** `--coder-version` value: the release's minor line, or a build whose answers disagree with the table. */
  readonly name: SimProfileName;
  /** What `/api/v2/buildinfo` reports. */
  readonly buildVersion: string;
  /** In the controller's support window (an older profile exists only to test refusing it). */
  readonly supported: boolean;
  /** coder/coder#19378 (about v2.26): `offline`, `status`, `max_age` on the provisioner daemons list. */
  readonly provisionerDaemonFilters: boolean;
  /**
   * coder/coder#20137 (merged 2025-10-02, so about v2.28; release not verified): `initiator` on
   * `GET /organizations/{org}/provisionerjobs`.
   */
  readonly provisionerJobInitiatorFilter: boolean;
  /** coder/coder#16985 (v2.21): `payload.targets` in notification payloads. */
  readonly notificationTargets: boolean;
  /**
   * coder/coder#22049 (2.31 or 2.32, unverified): the API rate limit is keyed by user, before it by
   * client address with the bypass header ignored.
   */
  readonly rateLimitKeyBy: RateLimitKeyBy;
}

export const CODER_VERSION_NAMES = ['2.20', '2.25', '2.29', '2.37'] as const;
export type CoderVersionName = (typeof CODER_VERSION_NAMES)[number];

export const SIM_PROFILES: Readonly<Record<CoderVersionName, SimProfile>> = {
  // Older than the controller supports: no targets in notifications. Used to test the refusal.
  '2.20': {
    name: '2.20',
    provisionerJobInitiatorFilter: false,
    buildVersion: 'v2.20.3+sim',
    supported: false,
    provisionerDaemonFilters: false,
    notificationTargets: false,
    rateLimitKeyBy: 'client-address',
  },
  // Seed 001's deployment; the oldest supported release.
  '2.25': {
    name: '2.25',
    provisionerJobInitiatorFilter: false,
    buildVersion: 'v2.25.0+sim',
    supported: true,
    provisionerDaemonFilters: false,
    notificationTargets: true,
    rateLimitKeyBy: 'client-address',
  },
  // The previous Extended Support Release (docs/install/releases/index.md).
  '2.29': {
    name: '2.29',
    provisionerJobInitiatorFilter: true,
    buildVersion: 'v2.29.19+sim',
    supported: true,
    provisionerDaemonFilters: true,
    notificationTargets: true,
    rateLimitKeyBy: 'client-address',
  },
  // The newest the project's swagger.json describes (main at about v2.37-devel).
  '2.37': {
    name: '2.37',
    provisionerJobInitiatorFilter: true,
    buildVersion: 'v2.37.0-devel+sim',
    supported: true,
    provisionerDaemonFilters: true,
    notificationTargets: true,
    rateLimitKeyBy: 'user',
  },
};

/**
 * Builds whose buildinfo and answers disagree with the controller's release table
 * (lambdas/adapters/coder/capabilities.ts), so the client must learn from what Coder answers:
 * - `2.26-without-19378`: reports v2.26 but its daemons list is the one before coder/coder#19378
 *   (the table's release for that change is a guess from its date; a v2.26 cut before the merge
 *   answers `offline` with 400).
 * - `main`: a build of Coder's main branch, which reports `v0.0.0-devel+<sha>` (buildinfo/buildinfo.go,
 *   `develPrefix`) and answers like the newest release.
 * They are not in CODER_VERSION_NAMES: the suites that run against every release do not run them.
 */
export const DISAGREEING_PROFILE_NAMES = ['2.26-without-19378', 'main'] as const;
export type DisagreeingProfileName = (typeof DISAGREEING_PROFILE_NAMES)[number];
export type SimProfileName = CoderVersionName | DisagreeingProfileName;

export const DISAGREEING_PROFILES: Readonly<Record<DisagreeingProfileName, SimProfile>> = {
  '2.26-without-19378': {
    ...SIM_PROFILES['2.25'],
    name: '2.26-without-19378',
    buildVersion: 'v2.26.0+sim',
  },
  main: { ...SIM_PROFILES['2.37'], name: 'main', buildVersion: 'v0.0.0-devel+5ac1e2f' },
};

/** The profiles CI runs the end-to-end suites against, oldest first. */
export const SUPPORTED_PROFILES: readonly CoderVersionName[] = CODER_VERSION_NAMES.filter(
  (name) => SIM_PROFILES[name].supported,
);

export const DEFAULT_CODER_VERSION: CoderVersionName = '2.37';

export const isCoderVersionName = (value: string): value is CoderVersionName =>
  (CODER_VERSION_NAMES as readonly string[]).includes(value);

export const isSimProfileName = (value: string): value is SimProfileName =>
  isCoderVersionName(value) || (DISAGREEING_PROFILE_NAMES as readonly string[]).includes(value);

export const simProfile = (name: SimProfileName = DEFAULT_CODER_VERSION): SimProfile =>
  isCoderVersionName(name) ? SIM_PROFILES[name] : DISAGREEING_PROFILES[name];

/**
 * Query parameters `GET /organizations/{org}/provisionerdaemons` parses; any other is a 400
 * "Invalid query parameters." (`httpapi.QueryParamParser.ErrorExcessParams`). Before
 * coder/coder#19378 the handler (coderd/provisionerdaemons.go `provisionerDaemons`) reads only
 * `limit`, `ids` and `tags`, and lists offline daemons; after it, offline ones are left out unless
 * `offline=true`.
 */
export const provisionerDaemonQueryRule = (
  profile: SimProfile,
): { readonly params: readonly string[]; readonly offlineByDefault: boolean } =>
  profile.provisionerDaemonFilters
    ? { params: ['limit', 'ids', 'tags', 'offline', 'status', 'max_age'], offlineByDefault: false }
    : { params: ['limit', 'ids', 'tags'], offlineByDefault: true };

/**
 * Whether `GET /organizations/{org}/provisionerjobs` takes `initiator` (coder/coder#20137). Before
 * it the handler (coderd/provisionerjobs.go `handleAuthAndFetchProvisionerJobs`) parses `limit`,
 * `ids`, `status` and `tags` only, and any other parameter is a 400.
 */
export const provisionerJobInitiatorRule = (profile: SimProfile): boolean =>
  profile.provisionerJobInitiatorFilter;

/**
 * Whether a notification payload carries `targets` ([workspace, owner, template, organization]
 * for workspace events): coder/coder#16985 made `StoreEnqueuer.EnqueueWithData` pass them to
 * `buildPayload` (coderd/notifications/enqueuer.go). Before it the field is absent.
 */
export const notificationTargetsRule = (profile: SimProfile): boolean => profile.notificationTargets;

/**
 * What one API rate-limit bucket is keyed by besides the path: coderd/httpmw/ratelimit.go prefers
 * the API key's user, but until coder/coder#22049 the limiter ran before the key was read
 * (coder/coder#20857), so every caller was keyed by its address and `X-Coder-Bypass-Ratelimit` was
 * ignored entirely. From it on an Owner's bypass works and a non-owner's gets 428
 * (sim/rate-limit.ts `rateLimitKeyDecision`).
 */
export const rateLimitKeyRule = (profile: SimProfile): RateLimitKeyBy => profile.rateLimitKeyBy;
