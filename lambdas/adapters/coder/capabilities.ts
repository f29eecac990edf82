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

/**
 * How sure the table is of a capability's first release. `verified`: the change is in that
 * release's source. `assumed`: the release is a guess from the change's date; the client must not
 * trust it, and learns from Coder's answer instead (see `answerRule`).
 */
export type CapabilityReleaseCertainty = 'verified' | 'assumed';

interface CapabilityInfo {
  /** First release with the behaviour. */
  readonly since: CoderVersion;
  readonly release: CapabilityReleaseCertainty;
  /** The Coder change, for whoever has to check it. */
  readonly source: string;
  readonly effect: string;
  /** What the controller does when the answer disagrees with the table, or why no answer can. */
  readonly answerRule: string;
}

const v = (minor: number): CoderVersion => ({ major: 2, minor, patch: 0 });

export const CODER_CAPABILITIES = {
  /**
   * coder/coder#19378 (opened 2025-08-15, after v2.25.0 was cut): `offline`, `status` and
   * `max_age` on GET /organizations/{org}/provisionerdaemons, and offline daemons left out unless
   * `offline=true`. Before it the handler (coderd/provisionerdaemons.go, `provisionerDaemons`)
   * parses only `limit`, `ids`, `tags`, answers 400 "Invalid query parameters." to anything else
   * (`QueryParamParser.ErrorExcessParams`), and lists offline daemons by default. Which release
   * first has it is not verified: 2.26 is a guess from the date.
   */
  provisionerDaemonsOfflineFilter: {
    since: v(26),
    release: 'assumed',
    source: 'coder/coder#19378',
    effect: 'list daemons with offline=true; before it, omit the parameter (offline ones are listed anyway)',
    answerRule:
      'a 400 "Invalid query parameters." naming `offline` is retried once without it, and the client stops sending it for its life',
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
    release: 'assumed',
    source: 'coder/coder#20137',
    effect:
      "list one user's provisioner jobs with initiator=<user id>; before it, filter a listing by initiator_id",
    answerRule:
      'a 400 "Invalid query parameters." naming `initiator` is retried once without it, and the client stops sending it for its life (that one listing counts everyone\'s jobs: the pacing errs toward fewer creates)',
  },
  /**
   * coder/coder#16985 (2025-03-18; about v2.21): `payload.targets` in every notification
   * (coderd/notifications/enqueuer.go `buildPayload`). Before it "Workspace Deleted" and others
   * carry no workspace id; the webhook correlates them by owner and name.
   */
  notificationTargets: {
    since: v(21),
    release: 'assumed',
    source: 'coder/coder#16985',
    effect: 'notifications name their workspace by id',
    answerRule:
      'the webhook reads `targets` when a payload has them and falls back to owner and name when not: each payload is its own answer',
  },
  /**
   * coder/coder#22049 (merged 2026-02-11; in 2.34 ESR per esr-2.29-2.34-upgrade.md, not in 2.29 or
   * 2.30): the API rate limit (coderd/httpmw/ratelimit.go) is keyed by user instead of client
   * address. Whether it first shipped in 2.31 or 2.32 is not verified; 2.32 is assumed.
   */
  rateLimitByUser: {
    since: v(32),
    release: 'assumed',
    source: 'coder/coder#22049 (first release 2.31 or 2.32, unverified)',
    effect: 'the 512/min budget per path is per user, not shared by every caller behind one address',
    answerRule:
      'no request depends on it: the client paces every path below the limit either way and honours 429 Retry-After',
  },
  /**
   * coder/coder#14048 (2024-07; v2.14): POST /users/{user}/workspaces (coderd/workspaces.go
   * `postUserWorkspaces`); the organization member route is deprecated.
   */
  usersWorkspacesCreate: {
    since: v(14),
    release: 'verified',
    source: 'coder/coder#14048',
    effect: 'create workspaces with POST /users/{user}/workspaces',
    answerRule: 'in every supported release (v2.25 on): always used',
  },
  /**
   * `param:<name>[=<value>]` in workspace search (coderd/searchquery/search.go `Workspaces`),
   * added by PR coder/coder#12694 (merged 2024-03-20, first in v2.10; it closed the feature request
   * coder/coder#10661). Present in every supported release.
   */
  paramSearch: {
    since: v(10),
    release: 'verified',
    source: 'coder/coder#12694 (coderd/searchquery/search.go)',
    effect: 'workspace search by parameter',
    answerRule:
      'a 400 to a `param:` search makes the families adapter read parameters one by one for its life (family-parent-counts.ts)',
  },
  /**
   * coder/coder#19006 (2025-07-22; v2.25): new templates use dynamic parameters, whose resolver
   * (coderd/dynamicparameters/resolver.go `ResolveParameters`) silently drops values for
   * parameters the template does not declare. Classic templates ignore them too.
   */
  dynamicParametersByDefault: {
    since: v(25),
    release: 'verified',
    source: 'coder/coder#19006',
    effect: 'a parameter value the template does not declare vanishes without an error',
    answerRule:
      'no request depends on the release: both kinds of template drop undeclared values, so nothing is learned',
  },
} as const satisfies Record<string, CapabilityInfo>;

export type CoderCapabilityName = keyof typeof CODER_CAPABILITIES;
export type CoderCapabilities = Readonly<Record<CoderCapabilityName, boolean>>;

export type CoderSupport = 'supported' | 'older-than-supported' | 'newer-than-known' | 'unknown';

/**
 * A build that is not a release (coder/coder `buildinfo/buildinfo.go`): with no tag injected the
 * version is `develPrefix` `v0.0.0-devel` plus `+<sha>`, a build of main (`main`); a build of a
 * commit after a tag reports `<tag>-devel+<sha>` (`after-tag`), at least that tag.
 */
export type CoderDevelopmentBuild = 'main' | 'after-tag';

/** What the client knows about the Coder it talks to. */
export interface CoderRelease {
  /** As buildinfo reported it, e.g. `v2.25.1+abcdef0`; undefined when it could not be read. */
  readonly reported: string | undefined;
  /** The release it is (at least); undefined when unreadable, and for a build of main (newer than any). */
  readonly version: CoderVersion | undefined;
  readonly support: CoderSupport;
  readonly capabilities: CoderCapabilities;
  /** Set for a development build; undefined for a release. */
  readonly development: CoderDevelopmentBuild | undefined;
}

/** `v2.25.1+abcdef0`, `2.29.0`, `v2.37.0-devel+sim` → {2, 25, 1}…; undefined for anything else. */
export const parseCoderVersion = (text: string): CoderVersion | undefined => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
};

/** `buildinfo.go`'s `develPrefix`; what follows is `+<sha>` or nothing. */
const MAIN_BUILD = /^v?0\.0\.0-devel(\+[0-9A-Za-z.-]*)?$/;
/** `<tag>-devel` with or without `+<sha>`: a commit after that tag. */
const AFTER_TAG_BUILD = /^v?\d+\.\d+\.\d+-devel(\+[0-9A-Za-z.-]*)?$/;

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

/** Everything in the table: a build of main is newer than every release. */
const ALL_CAPABILITIES: CoderCapabilities = capabilitiesOf({
  major: Number.MAX_SAFE_INTEGER,
  minor: 0,
  patch: 0,
});

/** The release behind a buildinfo `version` (undefined when buildinfo could not be read). */
export const coderReleaseOf = (reported: string | undefined): CoderRelease => {
  const text = reported?.trim();
  if (text !== undefined && MAIN_BUILD.test(text)) {
    // v0.0.0 is not a release: main is ahead of every tag, so it has every capability in the table.
    return {
      reported,
      version: undefined,
      support: 'newer-than-known',
      capabilities: ALL_CAPABILITIES,
      development: 'main',
    };
  }
  const development = text !== undefined && AFTER_TAG_BUILD.test(text) ? 'after-tag' : undefined;
  const version = text === undefined ? undefined : parseCoderVersion(text);
  if (!version) {
    return { reported, version, support: 'unknown', capabilities: COMMON_CAPABILITIES, development };
  }
  const sameMinor = (a: CoderVersion, b: CoderVersion) => a.major === b.major && a.minor === b.minor;
  if (
    compareCoderVersions(version, OLDEST_SUPPORTED_CODER) < 0 &&
    !sameMinor(version, OLDEST_SUPPORTED_CODER)
  ) {
    return {
      reported,
      version,
      support: 'older-than-supported',
      capabilities: COMMON_CAPABILITIES,
      development,
    };
  }
  const newer =
    compareCoderVersions(version, NEWEST_KNOWN_CODER) > 0 && !sameMinor(version, NEWEST_KNOWN_CODER);
  return {
    reported,
    version,
    support: newer ? 'newer-than-known' : 'supported',
    capabilities: capabilitiesOf(version),
    development,
  };
};

export const formatCoderVersion = (version: CoderVersion): string =>
  `v${version.major}.${version.minor}.${version.patch}`;
