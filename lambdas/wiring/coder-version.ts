/**
 * What a Lambda says about the Coder release it found at first contact: one line, and for a
 * release older than the oldest supported one, one `CoderVersionUnsupported` datapoint (instead
 * of a stream of 400s from requests that release does not understand).
 */
import {
  type CoderRelease,
  formatCoderVersion,
  NEWEST_KNOWN_CODER,
  OLDEST_SUPPORTED_CODER,
} from '../adapters/coder/capabilities.js';
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
      oldestSupported: formatCoderVersion(OLDEST_SUPPORTED_CODER),
      newestKnown: formatCoderVersion(NEWEST_KNOWN_CODER),
      capabilities: release.capabilities,
    };
    switch (release.support) {
      case 'older-than-supported':
        metrics?.addMetric(CODER_VERSION_METRICS.unsupported, METRIC_UNIT.count, 1);
        log.error(
          `Coder ${facts.coderVersion} is older than the oldest supported release (${facts.oldestSupported}); ` +
            'the controller sends only what every supported release accepts, and some requests may fail: upgrade Coder',
          facts,
        );
        return;
      case 'newer-than-known':
        log.warn(
          `Coder ${facts.coderVersion} is newer than the newest release the controller was checked against (${facts.newestKnown}); using that release's behaviour`,
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
        log.info(`Coder ${facts.coderVersion}`, facts);
        return;
    }
  };
