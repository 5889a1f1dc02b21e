import type { DeliveryHealth } from '../delivery/dispatcher.js';

export type { DeliveryHealth } from '../delivery/dispatcher.js';

/** Codes that open each entry of `ReadinessReport.reasons`. */
export type ReadinessReason =
  | 'token_rejected'
  | 'request_rejected'
  | 'tracker_unreachable'
  | 'outbox_full'
  | 'state_not_writable';

/**
 * The body of `/ready`: ready when events are being delivered normally. Each reason reads
 * `<code>: <detail>`, with the code taken from `ReadinessReason`.
 */
export interface ReadinessReport {
  ready: boolean;
  reasons: string[];
}

export interface ReadinessInput {
  delivery: DeliveryHealth;
  outboxFull: boolean;
  stateWritable: boolean;
  /** Error of the last failed state save, shown after `state_not_writable`. */
  stateError?: string;
  /**
   * Consecutive failed requests after which a retrying delivery counts as `tracker_unreachable`.
   * A few failures are normal retries and keep the agent ready.
   */
  unreachableAfterFailures?: number;
}

/** Default number of consecutive failures before a retrying delivery makes the agent unready. */
export const DEFAULT_UNREACHABLE_AFTER_FAILURES = 5;

/**
 * Decides readiness from delivery, outbox and state health. Pure: the same input always gives
 * the same report, and the order of reasons is fixed (delivery, outbox, state).
 */
export function assessReadiness(input: ReadinessInput): ReadinessReport {
  const reasons: string[] = [];
  const deliveryReason = describeDelivery(
    input.delivery,
    input.unreachableAfterFailures ?? DEFAULT_UNREACHABLE_AFTER_FAILURES
  );
  if (deliveryReason !== null) reasons.push(deliveryReason);
  if (input.outboxFull) {
    reasons.push(
      'outbox_full: the outbox reached outbox.maxBytes, ' +
        'so reading is paused until delivery frees space'
    );
  }
  if (!input.stateWritable) {
    reasons.push(`state_not_writable: ${input.stateError ?? 'the last state save failed'}`);
  }
  return { ready: reasons.length === 0, reasons };
}

function describeDelivery(delivery: DeliveryHealth, unreachableAfterFailures: number) {
  if (delivery.state === 'paused') {
    // A pause without a cause can only come from a newer dispatcher; treat it as a rejection.
    const code: ReadinessReason = delivery.reason ?? 'request_rejected';
    return `${code}: ${delivery.message ?? delivery.lastError ?? 'delivery is paused'}`;
  }
  if (delivery.state === 'retrying' && delivery.consecutiveFailures >= unreachableAfterFailures) {
    // The last error is short and specific; the retrying message only restates the state.
    const detail = delivery.lastError ?? delivery.message;
    const failures = `${delivery.consecutiveFailures} consecutive failed requests`;
    return `tracker_unreachable: ${detail === null ? failures : `${failures}, last: ${detail}`}`;
  }
  return null;
}
