/**
 * What a Lambda says about the Coder release it found at first contact: one line, and for a
 * release older than the oldest supported one, one `CoderVersionUnsupported` datapoint (instead
 * of a stream of 400s from requests that release does not understand). And, once per capability,
 * what it learned when Coder refused something the release table said it has.
 */
import {
  CODER_CAPABILITIES,
  type CoderRelease,
  formatCoderVersion,
  NEWEST_KNOWN_CODER,
  OLDEST_SUPPORTED_CODER,
} from '../adapters/coder/capabilities.js';
import type { CoderReleaseOptions, LearnedRefusal } from '../adapters/coder/client.js';
import type { LogSink } from '../core/contracts/log-sink.js';
import { METRIC_UNIT, type MetricsSink } from '../core/contracts/metrics-sink.js';

export const CODER_VERSION_METRICS = { unsupported: 'CoderVersionUnsupported' } as const;

/** The client's `onRelease` hook for a Lambda: called once per client, so once per container. */
export const coderReleaseReporter =
  (log: LogSink, metrics?: MetricsSink) =>
  (release: CoderRelease): void => {
    const facts = {
      coderVersion: release.reported ?? 'unknown',
      support: release.support,
      ...(release.development ? { development: release.development } : {}),
      oldestSupported: formatCoderVersion(OLDEST_SUPPORTED_CODER),
      newestKnown: formatCoderVersion(NEWEST_KNOWN_CODER),
      capabilities: release.capabilities,
    };
    if (release.development === 'main') {
      log.info(
        `Coder ${facts.coderVersion} is a build of Coder's main branch (v0.0.0-devel): newer than every release, so every capability in the release table is used`,
        facts,
      );
      return;
    }
    // `<tag>-devel+<sha>`: a commit after that tag, so at least that release.
    const afterTag =
      release.development === 'after-tag' && release.version
        ? ` (a development build after ${formatCoderVersion(release.version)}: at least that release)`
        : '';
    switch (release.support) {
      case 'older-than-supported':
        metrics?.addMetric(CODER_VERSION_METRICS.unsupported, METRIC_UNIT.count, 1);
        log.error(
          `Coder ${facts.coderVersion}${afterTag} is older than the oldest supported release (${facts.oldestSupported}); ` +
            'the controller sends only what every supported release accepts, and some requests may fail: upgrade Coder',
          facts,
        );
        return;
      case 'newer-than-known':
        log.warn(
          `Coder ${facts.coderVersion}${afterTag} is newer than the newest release the controller was checked against (${facts.newestKnown}); using that release's behaviour`,
          facts,
        );
        return;
      case 'unknown':
        log.warn(
          'Coder reported a version the controller cannot read; using only what every supported release accepts',
          facts,
        );
        return;
      case 'supported':
        log.info(`Coder ${facts.coderVersion}${afterTag}`, facts);
        return;
    }
  };

/** The client's `onCapabilityLearned` hook: one warning per capability, so once per container. */
export const coderCapabilityReporter =
  (log: LogSink) =>
  (refusal: LearnedRefusal): void => {
    const info = CODER_CAPABILITIES[refusal.capability];
    log.warn(
      `Coder ${refusal.reported ?? '(version unknown)'} refused ${refusal.capability} (${info.source}), which the release table assumed from ${formatCoderVersion(info.since)}: retried without it, and not used again by this container`,
      {
        coderVersion: refusal.reported ?? 'unknown',
        capability: refusal.capability,
        route: refusal.route,
        answer: refusal.answer,
        source: info.source,
      },
    );
  };

/** Both hooks, for `createCoderClient`. */
export const coderReleaseHooks = (
  log: LogSink,
  metrics?: MetricsSink,
): Required<Pick<CoderReleaseOptions, 'onRelease' | 'onCapabilityLearned'>> => ({
  onRelease: coderReleaseReporter(log, metrics),
  onCapabilityLearned: coderCapabilityReporter(log),
});
