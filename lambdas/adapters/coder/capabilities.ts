/**
 * Which Coder releases the controller supports, and what differs between them. Each difference is
 * one named capability with the release that brought it and the Coder change it comes from; the
 * client reads `/api/v2/buildinfo` once and asks these, or sticks to what every supported release
 * accepts when it cannot tell. Dates and releases: docs/install/releases/index.md in coder/coder.
 */

export interface CoderVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}

/** Seed 001 runs v2.25.0: the oldest release the controller supports (ESR 2.29 and newer are in Coder's window). */
export const OLDEST_SUPPORTED_CODER: CoderVersion = { major: 2, minor: 25, patch: 0 };
/** The newest release the project's swagger.json and API notes were read from (main at about v2.37-devel). */
export const NEWEST_KNOWN_CODER: CoderVersion = { major: 2, minor: 37, patch: 0 };

interface CapabilityInfo {
  /** First release with the behaviour. */
  readonly since: CoderVersion;
  /** The Coder change, for whoever has to check it. */
  readonly source: string;
  readonly effect: string;
}

const v = (minor: number): CoderVersion => ({ major: 2, minor, patch: 0 });

export const CODER_CAPABILITIES = {
  /**
   * coder/coder#19378 (opened 2025-08-15, after v2.25.0 was cut): `offline`, `status` and
   * `max_age` on GET /organizations/{org}/provisionerdaemons, and offline daemons left out unless
   * `offline=true`. Before it the handler (coderd/provisionerdaemons.go, `provisionerDaemons`)
   * parses only `limit`, `ids`, `tags`, answers 400 "Invalid query parameters." to anything else
   * (`QueryParamParser.ErrorExcessParams`), and lists offline daemons by default.
   */
  provisionerDaemonsOfflineFilter: {
    since: v(26),
    source: 'coder/coder#19378',
    effect: 'list daemons with offline=true; before it, omit the parameter (offline ones are listed anyway)',
  },
  /**
   * coder/coder#20137 (merged 2025-10-02, so about v2.28; the release is not verified): `initiator`
   * on GET /organizations/{org}/provisionerjobs (coderd/provisionerjobs.go,
   * `handleAuthAndFetchProvisionerJobs`, and the `@initiator_id` filter of
   * `GetProvisionerJobsByOrganizationAndStatusWithQueuePositionAndProvisioner`). Before it the
   * handler parses `limit`, `ids`, `status`, `tags` only and answers 400 to any other parameter.
   */
  provisionerJobsInitiatorFilter: {
    since: v(28),
    source: 'coder/coder#20137',
    effect:
      "list one user's provisioner jobs with initiator=<user id>; before it, filter a listing by initiator_id",
  },
  /**
   * coder/coder#16985 (2025-03-18; v2.21): `payload.targets` in every notification
   * (coderd/notifications/enqueuer.go `buildPayload`). Before it "Workspace Deleted" and others
   * carry no workspace id; the webhook correlates them by owner and name.
   */
  notificationTargets: {
    since: v(21),
    source: 'coder/coder#16985',
    effect: 'notifications name their workspace by id',
  },
  /**
   * coder/coder#22049 (opened 2026-02-11; in 2.34 ESR per esr-2.29-2.34-upgrade.md, not in 2.29 or
   * 2.30): the API rate limit (coderd/httpmw/ratelimit.go) is keyed by user instead of client
   * address. Whether 2.31 has it is not verified, so 2.32 is assumed.
   */
  rateLimitByUser: {
    since: v(32),
    source: 'coder/coder#22049',
    effect: 'the 512/min budget per path is per user, not shared by every caller behind one address',
  },
  /**
   * coder/coder#14048 (2024-07; v2.14): POST /users/{user}/workspaces (coderd/workspaces.go
   * `postUserWorkspaces`); the organization member route is deprecated.
   */
  usersWorkspacesCreate: {
    since: v(14),
    source: 'coder/coder#14048',
    effect: 'create workspaces with POST /users/{user}/workspaces',
  },
  /**
   * `param:<name>[=<value>]` in workspace search (coderd/searchquery/search.go `Workspaces`;
   * requested in coder/coder#10661, early 2024). Present in every supported release.
   */
  paramSearch: {
    since: v(8),
    source: 'coder/coder#10661 (coderd/searchquery/search.go)',
    effect: 'workspace search by parameter',
  },
  /**
   * coder/coder#19006 (2025-07-22; v2.25): new templates use dynamic parameters, whose resolver
   * (coderd/dynamicparameters/resolver.go `ResolveParameters`) silently drops values for
   * parameters the template does not declare. Classic templates ignore them too.
   */
  dynamicParametersByDefault: {
    since: v(25),
    source: 'coder/coder#19006',
    effect: 'a parameter value the template does not declare vanishes without an error',
  },
} as const satisfies Record<string, CapabilityInfo>;

export type CoderCapabilityName = keyof typeof CODER_CAPABILITIES;
export type CoderCapabilities = Readonly<Record<CoderCapabilityName, boolean>>;

export type CoderSupport = 'supported' | 'older-than-supported' | 'newer-than-known' | 'unknown';

/** What the client knows about the Coder it talks to. */
export interface CoderRelease {
  /** As buildinfo reported it, e.g. `v2.25.1+abcdef0`; undefined when it could not be read. */
  readonly reported: string | undefined;
  readonly version: CoderVersion | undefined;
  readonly support: CoderSupport;
  readonly capabilities: CoderCapabilities;
}

/** `v2.25.1+abcdef0`, `2.29.0`, `v2.37.0-devel+sim` → {2, 25, 1}…; undefined for anything else. */
export const parseCoderVersion = (text: string): CoderVersion | undefined => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
};

export const compareCoderVersions = (a: CoderVersion, b: CoderVersion): number =>
  a.major - b.major || a.minor - b.minor || a.patch - b.patch;

const capabilitiesOf = (version: CoderVersion): CoderCapabilities =>
  Object.fromEntries(
    Object.entries(CODER_CAPABILITIES).map(([name, info]) => [
      name,
      compareCoderVersions(version, info.since) >= 0,
    ]),
  ) as Record<CoderCapabilityName, boolean>;

/** What every supported release accepts: used when the release is unknown or older than supported. */
export const COMMON_CAPABILITIES: CoderCapabilities = capabilitiesOf(OLDEST_SUPPORTED_CODER);

/** The release behind a buildinfo `version` (undefined when buildinfo could not be read). */
export const coderReleaseOf = (reported: string | undefined): CoderRelease => {
  const version = reported === undefined ? undefined : parseCoderVersion(reported);
  if (!version) return { reported, version, support: 'unknown', capabilities: COMMON_CAPABILITIES };
  const sameMinor = (a: CoderVersion, b: CoderVersion) => a.major === b.major && a.minor === b.minor;
  if (
    compareCoderVersions(version, OLDEST_SUPPORTED_CODER) < 0 &&
    !sameMinor(version, OLDEST_SUPPORTED_CODER)
  ) {
    return { reported, version, support: 'older-than-supported', capabilities: COMMON_CAPABILITIES };
  }
  const newer =
    compareCoderVersions(version, NEWEST_KNOWN_CODER) > 0 && !sameMinor(version, NEWEST_KNOWN_CODER);
  return {
    reported,
    version,
    support: newer ? 'newer-than-known' : 'supported',
    capabilities: capabilitiesOf(version),
  };
};

export const formatCoderVersion = (version: CoderVersion): string =>
  `v${version.major}.${version.minor}.${version.patch}`;
