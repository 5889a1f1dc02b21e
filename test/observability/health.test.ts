import { describe, expect, it } from 'vitest';
import { assessReadiness, type DeliveryHealth } from '../../src/observability/health.js';

const delivering: DeliveryHealth = {
  state: 'delivering',
  reason: null,
  message: null,
  lastSuccessAt: 1_764_859_999_000,
  lastError: null,
  consecutiveFailures: 0,
};

function assess(
  delivery: Partial<DeliveryHealth>,
  extra: Partial<Parameters<typeof assessReadiness>[0]> = {}
) {
  return assessReadiness({
    delivery: { ...delivering, ...delivery },
    outboxFull: false,
    stateWritable: true,
    ...extra,
  });
}

describe('assessReadiness', () => {
  it('ready while delivering', () => {
    expect(assess({})).toEqual({ ready: true, reasons: [] });
  });

  it('ready while idle', () => {
    expect(assess({ state: 'idle', lastSuccessAt: null })).toEqual({ ready: true, reasons: [] });
  });

  it('paused on rejected token', () => {
    const report = assess({ state: 'paused', reason: 'token_rejected', message: '403 Forbidden' });
    expect(report.ready).toBe(false);
    expect(report.reasons).toEqual(['token_rejected: 403 Forbidden']);
  });

  it('paused on rejected request', () => {
    const report = assess({
      state: 'paused',
      reason: 'request_rejected',
      message: null,
      lastError: '404 Method not found',
    });
    expect(report.reasons).toEqual(['request_rejected: 404 Method not found']);
  });

  it('paused without detail', () => {
    const report = assess({ state: 'paused', reason: 'token_rejected' });
    expect(report.reasons).toEqual(['token_rejected: delivery is paused']);
  });

  it('few retries stay ready', () => {
    const report = assess({
      state: 'retrying',
      reason: 'tracker_unreachable',
      lastError: 'ECONNREFUSED',
      consecutiveFailures: 4,
    });
    expect(report).toEqual({ ready: true, reasons: [] });
  });

  it('unreachable prefers last error', () => {
    const report = assess({
      state: 'retrying',
      reason: 'tracker_unreachable',
      message: 'the tracker is unreachable or failing; retrying with backoff',
      lastError: 'ETIMEDOUT',
      consecutiveFailures: 7,
    });
    expect(report.reasons).toEqual([
      'tracker_unreachable: 7 consecutive failed requests, last: ETIMEDOUT',
    ]);
  });

  it('many retries mean unreachable', () => {
    const report = assess({
      state: 'retrying',
      reason: 'tracker_unreachable',
      lastError: 'ECONNREFUSED',
      consecutiveFailures: 5,
    });
    expect(report.ready).toBe(false);
    expect(report.reasons).toEqual([
      'tracker_unreachable: 5 consecutive failed requests, last: ECONNREFUSED',
    ]);
  });

  it('custom unreachable threshold', () => {
    const delivery = { state: 'retrying' as const, consecutiveFailures: 2 };
    expect(assess(delivery, { unreachableAfterFailures: 2 }).ready).toBe(false);
    expect(assess(delivery, { unreachableAfterFailures: 3 }).ready).toBe(true);
  });

  it('full outbox', () => {
    const report = assess({}, { outboxFull: true });
    expect(report.ready).toBe(false);
    expect(report.reasons).toHaveLength(1);
    expect(report.reasons[0]).toMatch(/^outbox_full: /);
  });

  it('state not writable', () => {
    const report = assess({}, { stateWritable: false, stateError: 'ENOSPC: no space left' });
    expect(report.reasons).toEqual(['state_not_writable: ENOSPC: no space left']);
  });

  it('reasons in fixed order', () => {
    const report = assess(
      { state: 'paused', reason: 'token_rejected', message: '403' },
      { outboxFull: true, stateWritable: false }
    );
    expect(report.reasons.map((reason) => reason.split(':')[0])).toEqual([
      'token_rejected',
      'outbox_full',
      'state_not_writable',
    ]);
  });
});
