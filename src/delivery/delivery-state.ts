import type { DeliveryConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { PauseReason } from './answer-policy.js';
import { computeBackoffMs } from './backoff.js';

/** Delivery's view of itself for `/ready`, `status` and `run --once`. */
export interface DeliveryHealth {
  state: 'idle' | 'delivering' | 'retrying' | 'paused';
  reason: null | 'token_rejected' | 'request_rejected' | 'tracker_unreachable';
  message: string | null;
  /** Epoch ms of the last acknowledged event. */
  lastSuccessAt: number | null;
  lastError: string | null;
  /** Failed requests since the last acknowledgement, counting rejections and network errors. */
  consecutiveFailures: number;
}

/**
 * The dispatcher's mode and failure bookkeeping: the backoff gate while retrying, the pause
 * and its gauge, and the state-change log lines (one line per change).
 *
 * Backoff is shared by all events: after a failure nothing is sent before the gate opens, and
 * then one request at a time until one succeeds. Each escalation starts a new round; only a
 * request sent in the current round moves the backoff on or closes it, so the responses of
 * requests that were already in flight neither double the delay nor end the retrying.
 */
export class DeliveryState {
  mode: 'normal' | 'retrying' | 'paused' = 'normal';
  pauseReason: PauseReason | null = null;
  pauseMessage: string | null = null;
  /** Number of the current backoff round; requests remember the round they were sent in. */
  round = 0;
  /** Epoch ms before which nothing is sent. */
  gateUntil = 0;
  consecutiveFailures = 0;
  /** Epoch ms of the first failure since the last success; null while requests succeed. */
  failingSince: number | null = null;
  lastSuccessAt: number | null = null;
  lastError: string | null = null;
  private backoffAttempt = 0;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly settings: () => DeliveryConfig
  ) {}

  /** Records an acknowledgement; leaves `retrying` when the request was sent in this round. */
  recordSuccess(sentRound: number, now = Date.now()): void {
    this.lastSuccessAt = now;
    this.recordReached(sentRound);
  }

  /**
   * Records that a request reached a working tracker (acknowledged or dead-lettered as a bad
   * event); leaves `retrying` when the request was sent in this round.
   */
  recordReached(sentRound: number): void {
    // Only a probe ends a pause, and a response from an earlier round does not describe the tracker's current state.
    if (this.mode === 'paused' || sentRound !== this.round) return;
    const failures = this.consecutiveFailures;
    this.consecutiveFailures = 0;
    this.failingSince = null;
    this.backoffAttempt = 0;
    if (this.mode === 'retrying') {
      this.mode = 'normal';
      this.gateUntil = 0;
      this.logger.info({ failures }, 'The tracker accepts events again; delivery resumed.');
    }
  }

  /**
   * Records a transient failure and returns the delay before the next send, in ms (0 when a
   * request of an earlier round failed and the current gate stays as it is).
   */
  recordFailure(
    detail: string,
    retryAfterMs: number | null,
    sentRound: number,
    now = Date.now()
  ): number {
    this.consecutiveFailures++;
    this.failingSince ??= now;
    this.lastError = detail;
    if (this.mode === 'paused' || sentRound !== this.round)
      return Math.max(0, this.gateUntil - now);

    this.round++;
    this.backoffAttempt++;
    const delayMs = computeBackoffMs(this.backoffAttempt, this.settings(), retryAfterMs);
    this.gateUntil = now + delayMs;
    if (this.mode === 'normal') {
      this.mode = 'retrying';
      this.logger.warn(
        { error: detail, retryInMs: delayMs },
        'The tracker is unreachable or failing; retrying with backoff, every event is kept.'
      );
    }
    return delayMs;
  }

  /** Enters or stays in `paused`; logs and sets the gauge when the pause or its cause is new. */
  pause(reason: PauseReason, message: string, fields: Record<string, unknown>): boolean {
    this.consecutiveFailures++;
    this.failingSince ??= Date.now();
    this.lastError = message;
    if (this.mode === 'paused' && this.pauseReason === reason && this.pauseMessage === message) {
      return false;
    }
    if (this.pauseReason !== null && this.pauseReason !== reason) {
      this.metrics.deliveryPaused.set({ reason: this.pauseReason }, 0);
    }
    this.mode = 'paused';
    this.pauseReason = reason;
    this.pauseMessage = message;
    this.metrics.deliveryPaused.set({ reason }, 1);
    this.logger.error({ ...fields, reason }, message);
    return true;
  }

  /** Leaves `paused` after a probe went through. */
  resume(now = Date.now()): void {
    if (this.pauseReason !== null) this.metrics.deliveryPaused.set({ reason: this.pauseReason }, 0);
    this.logger.info(
      { reason: this.pauseReason },
      'The tracker accepted the probe; delivery resumed.'
    );
    this.mode = 'normal';
    this.pauseReason = null;
    this.pauseMessage = null;
    this.gateUntil = 0;
    this.backoffAttempt = 0;
    this.consecutiveFailures = 0;
    this.failingSince = null;
    this.round++;
    this.lastSuccessAt = now;
  }

  /** Opens the backoff gate at once, after new settings. */
  openGate(): void {
    this.gateUntil = 0;
  }

  health(busy: boolean): DeliveryHealth {
    const base = {
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      consecutiveFailures: this.consecutiveFailures,
    };
    if (this.mode === 'paused') {
      return { state: 'paused', reason: this.pauseReason, message: this.pauseMessage, ...base };
    }
    if (this.mode === 'retrying') {
      const message = `the tracker is unreachable or failing (last error: ${this.lastError}); retrying with backoff, every event is kept`;
      return { state: 'retrying', reason: 'tracker_unreachable', message, ...base };
    }
    return { state: busy ? 'delivering' : 'idle', reason: null, message: null, ...base };
  }
}
