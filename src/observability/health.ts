/**
 * Delivery's view of itself, as the dispatcher reports it. Declared here with the same shape as
 * the dispatcher's type so that readiness can be assessed without importing delivery code.
 */
export interface DeliveryHealth {
  state: 'idle' | 'delivering' | 'retrying' | 'paused';
  reason: null | 'token_rejected' | 'request_rejected' | 'tracker_unreachable';
  message: string | null;
  /** Epoch ms of the last acknowledged event. */
  lastSuccessAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
}

/** Codes that open each entry of `ReadinessReport.reasons`. */
export type ReadinessReason =
  | 'token_rejected'
  | 'request_rejected'
  | 'tracker_unreachable'
  | 'outbox_full'
  | 'state_not_writable';

/**
 * The answer of `/ready`: ready when events are being delivered normally. Each reason reads
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
  /** Why the last state save failed, shown after `state_not_writable`. */
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
      'outbox_full: the outbox reached outbox.maxBytes, so reading is paused until delivery frees space'
    );
  }
  if (!input.stateWritable) {
    reasons.push(`state_not_writable: ${input.stateError ?? 'the last state save failed'}`);
  }
  return { ready: reasons.length === 0, reasons };
}

function describeDelivery(delivery: DeliveryHealth, unreachableAfterFailures: number) {
  const detail = delivery.message ?? delivery.lastError;
  if (delivery.state === 'paused') {
    // A pause without a cause can only come from a newer dispatcher; treat it as a rejection.
    const code: ReadinessReason = delivery.reason ?? 'request_rejected';
    return `${code}: ${detail ?? 'delivery is paused'}`;
  }
  if (delivery.state === 'retrying' && delivery.consecutiveFailures >= unreachableAfterFailures) {
    const failures = `${delivery.consecutiveFailures} consecutive failed requests`;
    return `tracker_unreachable: ${detail === null ? failures : `${failures}, last: ${detail}`}`;
  }
  return null;
}
