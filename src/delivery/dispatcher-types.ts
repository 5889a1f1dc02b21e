import type { DeliveryConfig, TrackerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Outbox, OutboxRecord } from '../outbox/outbox.js';
import type { DeadLetterWriter } from './dead-letters.js';
import type { DeliveryHealth } from './delivery-state.js';
import type { DrainResult } from './drain-waiters.js';

/** Sends the outbox's events to the tracker and records the outcome of each. */
export interface Dispatcher {
  start(): void;
  /**
   * Resolves when the outbox is empty and nothing is in flight; resolves `{ ok: false, reason }`
   * as soon as delivery pauses on a rejection, or when `giveUpAfterMs` of consecutive transient
   * failures have passed (used by `run --once`).
   */
  drained(options?: { giveUpAfterMs?: number }): Promise<DrainResult>;
  /** Stops taking records, waits up to timeoutMs for requests in flight, then aborts them (an aborted request stays in the outbox). */
  stop(timeoutMs: number): Promise<void>;
  health(): DeliveryHealth;
  /** New tracker settings or token after a reload: a paused dispatcher probes at once. */
  reconfigure(tracker: TrackerConfig, token: string, delivery: DeliveryConfig): void;
}

/** The part of the outbox that delivery uses; it emits `append` when records arrive. */
export type DeliveryOutbox = Pick<
  Outbox,
  'take' | 'acknowledge' | 'markDead' | 'stats' | 'on' | 'off'
>;

export interface DispatcherOptions {
  outbox: DeliveryOutbox;
  tracker: TrackerConfig;
  token: string;
  delivery: DeliveryConfig;
  deadLetters: Pick<DeadLetterWriter, 'write'>;
  logger: Logger;
  metrics: Metrics;
  /** Called for every acknowledged record, after the outbox recorded it. */
  onAcknowledged?: (record: OutboxRecord) => void;
}
