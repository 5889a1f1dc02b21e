import { createRequire } from 'node:module';
import type { Counter, Gauge, Registry } from 'prom-client';

/** Label values of one series, as prom-client takes them. */
export type LabelValues<L extends string> = Partial<Record<L, string | number>>;

/** A counter with the call shape of prom-client's `Counter`: `inc(value?)`, `inc(labels, value?)`. */
export interface CounterMetric<L extends string = string> {
  inc(value?: number): void;
  inc(labels: LabelValues<L>, value?: number): void;
}

/** A gauge with the call shape of prom-client's `Gauge`: `set(value)`, `set(labels, value)`. */
export interface GaugeMetric<L extends string = string> {
  set(value: number): void;
  set(labels: LabelValues<L>, value: number): void;
}

/**
 * The agent's Prometheus metrics. Labels never carry user ids or file paths: files are
 * identified by their checkpoint key only in logs and in `status`.
 */
export interface Metrics {
  /**
   * The prom-client registry with every metric below. The first read loads prom-client and
   * builds it; each collection then copies the current values into it.
   */
  readonly registry: Registry;
  readonly linesRead: CounterMetric<'bot'>;
  readonly bytesRead: CounterMetric<'bot'>;
  readonly linesSkipped: CounterMetric<'bot' | 'reason'>;
  readonly linesMatched: CounterMetric<'bot' | 'rule'>;
  readonly eventsInvalid: CounterMetric<'bot' | 'reason'>;
  readonly eventsTimeSuspect: CounterMetric<'bot' | 'reason'>;
  readonly eventsQueued: CounterMetric<'event'>;
  readonly eventsSent: CounterMetric<'event'>;
  readonly eventsAcknowledged: CounterMetric<'event'>;
  readonly eventsDeadLettered: CounterMetric<'event' | 'reason'>;
  readonly retries: CounterMetric<'reason'>;
  readonly responses: CounterMetric<'status'>;
  readonly outboxEvents: GaugeMetric;
  readonly outboxBytes: GaugeMetric;
  readonly outboxOldestAgeSeconds: GaugeMetric;
  readonly fileLagBytes: GaugeMetric<'bot'>;
  readonly filesWatched: GaugeMetric<'bot'>;
  readonly lastDeliveryTimestampSeconds: GaugeMetric;
  readonly deliveryPaused: GaugeMetric<'reason'>;
}

/** Values of one metric, one entry per label combination, kept without prom-client. */
abstract class MetricSeries<L extends string> {
  readonly series = new Map<string, { labels: LabelValues<L>; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[]
  ) {
    // prom-client shows a metric without labels as 0 before its first update.
    if (labelNames.length === 0) this.series.set('', { labels: {}, value: 0 });
  }

  protected entry(labels: LabelValues<L>): { labels: LabelValues<L>; value: number } {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name] ?? ''}\u0000`;
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: { ...labels }, value: 0 };
      this.series.set(key, entry);
    }
    return entry;
  }
}

class CounterSeries<L extends string> extends MetricSeries<L> implements CounterMetric<L> {
  inc(labelsOrValue?: LabelValues<L> | number, value = 1): void {
    const labels = typeof labelsOrValue === 'object' ? labelsOrValue : {};
    const amount = typeof labelsOrValue === 'number' ? labelsOrValue : value;
    if (!Number.isFinite(amount) || amount < 0) {
      throw new Error(`${this.name}: a counter grows by a finite amount >= 0, not ${amount}`);
    }
    this.entry(labels).value += amount;
  }
}

class GaugeSeries<L extends string> extends MetricSeries<L> implements GaugeMetric<L> {
  set(labelsOrValue: LabelValues<L> | number, value?: number): void {
    if (typeof labelsOrValue === 'number') this.entry({}).value = labelsOrValue;
    else this.entry(labelsOrValue).value = value ?? 0;
  }
}

/**
 * Creates the metric set. Updates go to plain in-memory counters and gauges, so prom-client
 * (about 12 MiB of RSS on Node 20.20) is loaded only when something reads `registry`: the `/metrics`
 * listener, the demo or a test. Each call has a registry of its own, so tests can hold several
 * agents.
 */
export function createMetrics(): Metrics {
  const all: (CounterSeries<string> | GaugeSeries<string>)[] = [];
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) => {
    const metric = new CounterSeries<L>(`mfc_agent_${name}`, help, labelNames);
    all.push(metric as CounterSeries<string>);
    return metric;
  };
  const gauge = <L extends string>(name: string, help: string, labelNames: L[]) => {
    const metric = new GaugeSeries<L>(`mfc_agent_${name}`, help, labelNames);
    all.push(metric as GaugeSeries<string>);
    return metric;
  };
  let registry: Registry | undefined;

  return {
    get registry() {
      registry ??= buildRegistry(all);
      return registry;
    },
    linesRead: counter('lines_read_total', 'Log lines read.', ['bot']),
    bytesRead: counter('bytes_read_total', 'Log bytes read.', ['bot']),
    linesSkipped: counter(
      'lines_skipped_total',
      'Lines that produced no event, by reason (not_json, no_match, too_long, prefiltered).',
      ['bot', 'reason']
    ),
    linesMatched: counter('lines_matched_total', 'Lines matched, per rule.', ['bot', 'rule']),
    eventsInvalid: counter(
      'events_invalid_total',
      'Matched lines whose user id or time was unusable; they go to the dead letters.',
      ['bot', 'reason']
    ),
    eventsTimeSuspect: counter(
      'events_time_suspect_total',
      'Events dated in the future beyond the tolerance, or implausibly old.',
      ['bot', 'reason']
    ),
    eventsQueued: counter('events_queued_total', 'Events written to the outbox.', ['event']),
    eventsSent: counter('events_sent_total', 'Requests sent to the tracker.', ['event']),
    eventsAcknowledged: counter(
      'events_acknowledged_total',
      'Events the tracker accepted with status 200.',
      ['event']
    ),
    eventsDeadLettered: counter(
      'events_dead_lettered_total',
      'Events moved to the dead-letter file.',
      ['event', 'reason']
    ),
    retries: counter('retries_total', 'Requests retried, by cause.', ['reason']),
    responses: counter('responses_total', 'Tracker responses by HTTP status.', ['status']),
    outboxEvents: gauge('outbox_events', 'Events waiting in the outbox.', []),
    outboxBytes: gauge('outbox_bytes', 'Bytes of outbox segments on disk.', []),
    outboxOldestAgeSeconds: gauge(
      'outbox_oldest_age_seconds',
      'Age of the oldest event waiting in the outbox, 0 when it is empty.',
      []
    ),
    fileLagBytes: gauge('file_lag_bytes', 'Bytes not yet read, summed over the bot files.', [
      'bot',
    ]),
    filesWatched: gauge('files_watched', 'Files being followed.', ['bot']),
    lastDeliveryTimestampSeconds: gauge(
      'last_delivery_timestamp_seconds',
      'Unix time of the last acknowledged event.',
      []
    ),
    deliveryPaused: gauge(
      'delivery_paused',
      '1 while delivery is paused, labelled with the cause (token_rejected, request_rejected, outbox_full, state_not_writable).',
      ['reason']
    ),
  };
}

/** Registers one prom-client metric per series; each copies the series' values when collected. */
function buildRegistry(all: readonly (CounterSeries<string> | GaugeSeries<string>)[]): Registry {
  const promClient = loadPromClient();
  const registry = new promClient.Registry();
  for (const metric of all) {
    const config = {
      name: metric.name,
      help: metric.help,
      labelNames: metric.labelNames,
      registers: [registry],
    };
    if (metric instanceof CounterSeries) {
      new promClient.Counter({
        ...config,
        collect(this: Counter) {
          this.reset();
          for (const { labels, value } of metric.series.values()) this.inc(labels, value);
        },
      });
    } else {
      new promClient.Gauge({
        ...config,
        collect(this: Gauge) {
          this.reset();
          for (const { labels, value } of metric.series.values()) this.set(labels, value);
        },
      });
    }
  }
  return registry;
}

/** True in the CommonJS bundle, where packaging/bundle.mjs defines it; undefined elsewhere. */
declare const MFC_COMMONJS_BUNDLE: boolean | undefined;

/**
 * Loads prom-client synchronously. esbuild puts a package into the CommonJS bundle only for a
 * literal `require` call, while the compiled CLI is an ES module without `require`.
 */
function loadPromClient(): typeof import('prom-client') {
  if (typeof MFC_COMMONJS_BUNDLE !== 'undefined') return require('prom-client');
  return createRequire(import.meta.url)('prom-client');
}
