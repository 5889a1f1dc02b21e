import type { DeliveryConfig, TrackerConfig } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { type AnswerDecision, classifyAnswer, describePause } from './answer-policy.js';
import { type DeliveryHealth, DeliveryState } from './delivery-state.js';
import type { DeliveryOutbox, Dispatcher, DispatcherOptions } from './dispatcher-types.js';
import { type DrainResult, DrainWaiters } from './drain-waiters.js';
import { type HeldRecord, HeldRecords } from './held-records.js';
import { InFlightRequests } from './in-flight.js';
import { OneShotTimer } from './one-shot-timer.js';
import { type DeadLetterAnswer, OutcomeRecorder } from './outcomes.js';
import { RateLimiter } from './rate-limiter.js';
import { createSender, type Sender, type SendResult, type TrackerAnswer } from './sender.js';

export type { DeliveryHealth } from './delivery-state.js';
export type { DeliveryOutbox, Dispatcher, DispatcherOptions } from './dispatcher-types.js';
export type { DrainResult } from './drain-waiters.js';

/** How often the outbox gauges are refreshed, in ms. */
const OUTBOX_GAUGE_INTERVAL_MS = 1000;

/** One request: the facts its response is judged with. */
interface Attempt {
  held: HeldRecord;
  round: number;
  probe: boolean;
  sender: Sender;
}

/**
 * Creates the dispatcher. Up to `delivery.concurrency` requests are in flight, within
 * `delivery.maxRequestsPerSecond`; at most twice `concurrency` records are held in memory, and
 * the rest wait in the outbox. The answer policy classifies every response: acknowledged,
 * retried with a shared backoff (see `DeliveryState`), dead-lettered, or a pause that keeps
 * every event and probes with one of them every `delivery.probeIntervalMs`.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new OutboxDispatcher(options);
}

class OutboxDispatcher implements Dispatcher {
  private tracker: TrackerConfig;
  private delivery: DeliveryConfig;
  private sender: Sender;
  private readonly outbox: DeliveryOutbox;
  private readonly logger: Logger;
  private readonly metrics: Metrics;
  private readonly rateLimiter: RateLimiter;
  private readonly state: DeliveryState;
  private readonly waiters = new DrainWaiters(() => this.settleWaiters());
  private readonly outcomes: OutcomeRecorder;
  private readonly held: HeldRecords;
  private readonly inFlight = new InFlightRequests();
  private readonly pumpTimer = new OneShotTimer(() => this.pump());
  private readonly probeTimer = new OneShotTimer(() => this.probe());
  private probeInFlight = false;
  private gaugeTimer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping: Promise<void> | null = null;
  private readonly onAppend = () => this.pump();

  constructor(options: DispatcherOptions) {
    this.tracker = options.tracker;
    this.delivery = options.delivery;
    this.outbox = options.outbox;
    this.held = new HeldRecords(options.outbox);
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.sender = createSender({
      tracker: options.tracker,
      token: options.token,
      maxSockets: options.delivery.concurrency,
    });
    this.rateLimiter = new RateLimiter(options.delivery.maxRequestsPerSecond);
    this.state = new DeliveryState(options.logger, options.metrics, () => this.delivery);
    this.outcomes = new OutcomeRecorder(
      options.outbox,
      options.deadLetters,
      options.logger,
      options.metrics,
      options.onAcknowledged
    );
  }

  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.outbox.on('append', this.onAppend);
    this.gaugeTimer = setInterval(() => this.updateOutboxGauges(), OUTBOX_GAUGE_INTERVAL_MS);
    this.gaugeTimer.unref();
    this.updateOutboxGauges();
    this.logger.info(
      { url: this.tracker.url, appId: this.tracker.appId, concurrency: this.delivery.concurrency },
      'Delivery started.'
    );
    this.pump();
  }

  drained(options: { giveUpAfterMs?: number } = {}): Promise<DrainResult> {
    const result = this.waiters.add(options.giveUpAfterMs ?? null);
    this.settleWaiters();
    return result;
  }

  health(): DeliveryHealth {
    return this.state.health(this.held.size > 0);
  }

  reconfigure(tracker: TrackerConfig, token: string, delivery: DeliveryConfig): void {
    // Built first: an unreadable caFile throws here and the running settings stay.
    const sender = createSender({ tracker, token, maxSockets: delivery.concurrency });
    const previous = this.sender;
    this.sender = sender;
    this.tracker = tracker;
    this.delivery = delivery;
    this.rateLimiter.setRate(delivery.maxRequestsPerSecond);
    // Requests in flight on the previous connections finish before they close.
    previous.close().catch(() => undefined);
    this.logger.info({ url: tracker.url, appId: tracker.appId }, 'Delivery settings reloaded.');
    if (this.stopping || !this.started) return;
    if (this.state.mode === 'paused') this.probe();
    else this.state.openGate();
    this.pump();
  }

  stop(timeoutMs: number): Promise<void> {
    this.stopping ??= this.shutdown(timeoutMs);
    return this.stopping;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    this.outbox.off('append', this.onAppend);
    this.clearTimers();
    const aborted = await this.inFlight.finish(timeoutMs);
    this.held.clear();
    await this.sender.close().catch(() => undefined);
    this.waiters.resolveAll({ ok: false, reason: 'delivery stopped before the outbox was empty' });
    this.logger.info({ aborted }, 'Delivery stopped; aborted requests stay in the outbox.');
  }

  /** Sends what the mode, the backoff gate, the concurrency and the rate limit allow. */
  private pump(): void {
    if (!this.started || this.stopping) return;
    this.pumpTimer.clear();
    if (this.state.mode !== 'paused') this.sendAllowed();
    this.settleWaiters();
  }

  private sendAllowed(): void {
    const now = Date.now();
    if (now < this.state.gateUntil) {
      this.pumpTimer.schedule(this.state.gateUntil - now);
      return;
    }
    // While retrying, one request at a time finds out whether the tracker is back.
    const limit = this.state.mode === 'retrying' ? 1 : this.delivery.concurrency;
    while (this.inFlight.size < limit) {
      const next = this.held.nextWaiting(this.heldCapacity());
      if (next === null) return;
      const waitMs = this.rateLimiter.tryTake();
      if (waitMs > 0) {
        this.pumpTimer.schedule(waitMs);
        return;
      }
      this.send(next, false);
    }
  }

  /** Records held in memory: those in flight plus an equal read-ahead. */
  private heldCapacity(): number {
    return 2 * this.delivery.concurrency;
  }

  private send(held: HeldRecord, probe: boolean): void {
    const { record } = held;
    const attempt: Attempt = { held, round: this.state.round, probe, sender: this.sender };
    const controller = new AbortController();
    held.sending = true;
    if (probe) this.probeInFlight = true;
    this.metrics.eventsSent.inc({ event: record.event.name });
    const done = attempt.sender
      .send(record.event, controller.signal)
      .then((result) => this.handleResult(attempt, result))
      .catch((error: unknown) => {
        this.logger.error({ seq: record.seq, err: error }, 'Handling a tracker response failed.');
      });
    this.inFlight.add(record.seq, controller, done);
  }

  private handleResult(attempt: Attempt, result: SendResult): void {
    const { held, probe } = attempt;
    const { seq } = held.record;
    this.inFlight.delete(seq);
    held.sending = false;
    if (probe) this.probeInFlight = false;
    if (result.kind === 'aborted') {
      // Not acknowledged: the record stays in the outbox and is sent again after a restart.
      this.held.delete(seq);
      return;
    }
    const status = result.kind === 'response' ? String(result.status) : 'error';
    this.metrics.responses.inc({ status });
    const decision = classifyAnswer(result);
    this.apply(attempt, result, decision);
    if (this.state.mode === 'paused') this.armProbe(attempt.sender !== this.sender ? 0 : null);
    else this.probeTimer.clear();
    this.pump();
  }

  private apply(attempt: Attempt, result: TrackerAnswer, decision: AnswerDecision): void {
    const { held, round, probe } = attempt;
    const wasPaused = this.state.mode === 'paused';
    switch (decision.kind) {
      case 'acknowledged':
        this.held.delete(held.record.seq);
        this.outcomes.acknowledged(held.record);
        this.state.recordSuccess(round);
        if (probe && wasPaused) this.state.resume();
        return;
      case 'dead-letter':
        this.deadLetter(held, 'bad request', { status: decision.status, body: decision.body });
        this.state.recordReached(round);
        // The tracker took our token and request and judged the event itself.
        if (probe && wasPaused) this.state.resume();
        return;
      case 'retry':
        this.retry(attempt, result, decision);
        return;
      case 'pause':
        if (attempt.sender !== this.sender) return; // sent with settings that a reload replaced
        this.state.pause(decision.reason, describePause(decision, this.tracker), {
          seq: held.record.seq,
          event: held.record.event.name,
          status: decision.status,
          appId: this.tracker.appId,
        });
        if (probe)
          this.outcomes.warn(
            'probe',
            { seq: held.record.seq },
            'The probe was rejected; delivery stays paused.'
          );
        return;
    }
  }

  private retry(
    attempt: Attempt,
    result: TrackerAnswer,
    decision: Extract<AnswerDecision, { kind: 'retry' }>
  ): void {
    const { held, round } = attempt;
    const { record } = held;
    held.failures++;
    const error =
      result.kind === 'response' ? `HTTP ${result.status}` : `${result.code}: ${result.message}`;
    this.metrics.retries.inc({ reason: decision.reason });
    const retryInMs = this.state.recordFailure(error, decision.retryAfterMs, round);
    const { maxRetries } = this.delivery;
    if (maxRetries > 0 && held.failures > maxRetries) {
      const answer = result.kind === 'response' ? { status: result.status, body: result.body } : {};
      this.deadLetter(held, 'retries exhausted', answer);
      return;
    }
    this.outcomes.warn(
      `retry:${decision.reason}`,
      { seq: record.seq, event: record.event.name, error, failures: held.failures, retryInMs },
      'Sending an event failed; it will be retried.'
    );
  }

  /** Moves a record to the dead letters; when that write fails, keeps it and backs off. */
  private deadLetter(held: HeldRecord, reason: string, answer: DeadLetterAnswer = {}): void {
    if (this.outcomes.deadLettered(held.record, reason, answer)) {
      this.held.delete(held.record.seq);
      return;
    }
    this.state.recordFailure('writing a dead letter failed', null, this.state.round);
  }

  /** Sends one held event while paused; its acknowledgement resumes delivery. */
  private probe(): void {
    this.probeTimer.clear();
    if (this.stopping || this.state.mode !== 'paused' || this.probeInFlight) return;
    const next = this.held.nextWaiting(this.heldCapacity());
    if (next === null) {
      this.armProbe(null);
      return;
    }
    this.logger.info(
      { seq: next.record.seq, event: next.record.event.name },
      'Probing the tracker with one held event.'
    );
    this.send(next, true);
  }

  /** Schedules the next probe after `delayMs`, or `delivery.probeIntervalMs` when null. */
  private armProbe(delayMs: number | null): void {
    if (this.stopping || this.probeInFlight) return;
    if (delayMs === null && this.probeTimer.pending) return;
    this.probeTimer.schedule(delayMs ?? this.delivery.probeIntervalMs);
  }

  private settleWaiters(): void {
    if (this.waiters.size === 0) return;
    const blockedBy =
      this.stopping !== null
        ? 'delivery stopped before the outbox was empty'
        : this.state.mode === 'paused'
          ? this.state.pauseMessage
          : null;
    this.waiters.settle({
      blockedBy,
      drained: () => this.isDrained(),
      failingSince: this.state.failingSince,
      lastError: this.state.lastError,
    });
  }

  private isDrained(): boolean {
    if (this.held.size > 0 || this.inFlight.size > 0) return false;
    if (this.held.refill(this.heldCapacity()) === null) return true;
    this.pumpTimer.schedule(0);
    return false;
  }

  private updateOutboxGauges(): void {
    const stats = this.outbox.stats();
    this.metrics.outboxEvents.set(stats.events);
    this.metrics.outboxBytes.set(stats.bytes);
    const ageMs = stats.oldestFoundAt === null ? 0 : Math.max(0, Date.now() - stats.oldestFoundAt);
    this.metrics.outboxOldestAgeSeconds.set(ageMs / 1000);
  }

  private clearTimers(): void {
    this.pumpTimer.clear();
    this.probeTimer.clear();
    if (this.gaugeTimer !== null) clearInterval(this.gaugeTimer);
    this.gaugeTimer = null;
  }
}
