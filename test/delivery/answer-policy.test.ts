import { describe, expect, it } from 'vitest';
import {
  classifyAnswer,
  describePause,
  parseRetryAfterMs,
} from '../../src/delivery/answer-policy.js';
import type { TrackerAnswer } from '../../src/delivery/sender.js';

const response = (
  status: number,
  body = '',
  headers: Record<string, string> = {}
): TrackerAnswer => ({
  kind: 'response',
  status,
  body,
  headers,
});
const networkError = (code: string): TrackerAnswer => ({
  kind: 'network-error',
  code,
  message: code,
});
const tracker = { appId: 1027600, url: 'https://tracker.example/v1/customEvent/' };

describe('classifyAnswer', () => {
  it('acknowledges 200 with a Latin OK', () => {
    expect(classifyAnswer(response(200, '{"message": "OK"}'))).toEqual({
      kind: 'acknowledged',
      status: 200,
    });
  });

  it('acknowledges 200 with a Cyrillic ОK', () => {
    expect(classifyAnswer(response(200, '{"message": "ОK"}')).kind).toBe('acknowledged');
  });

  it('acknowledges another 2xx', () => {
    expect(classifyAnswer(response(204)).kind).toBe('acknowledged');
  });

  it.each([500, 502, 503, 504, 429, 408, 599])('retries status %i', (status) => {
    const decision = classifyAnswer(response(status, '{"error": "Internal Server Error"}'));
    expect(decision).toEqual({
      kind: 'retry',
      reason: `http_${status}`,
      retryAfterMs: null,
      detail: String(status),
    });
  });

  it('reads Retry-After seconds', () => {
    const decision = classifyAnswer(response(503, '', { 'retry-after': '7' }));
    expect(decision.kind).toBe('retry');
    expect(decision).toHaveProperty('retryAfterMs', 7000);
  });

  it('reads a Retry-After date', () => {
    const now = Date.parse('2026-03-18T10:00:00Z');
    const decision = classifyAnswer(
      response(429, '', { 'retry-after': 'Wed, 18 Mar 2026 10:00:30 GMT' }),
      now
    );
    expect(decision.kind).toBe('retry');
    expect(decision).toHaveProperty('retryAfterMs', 30_000);
  });

  it.each([
    ['ECONNREFUSED', 'connection_refused'],
    ['ECONNRESET', 'connection_reset'],
    ['EPIPE', 'connection_reset'],
    ['UND_ERR_SOCKET', 'connection_reset'],
    ['ETIMEDOUT', 'timeout'],
    ['TIMEOUT', 'timeout'],
    ['UND_ERR_CONNECT_TIMEOUT', 'timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'timeout'],
    ['ENOTFOUND', 'dns'],
    ['EAI_AGAIN', 'dns'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
    ['CERT_HAS_EXPIRED', 'tls'],
    ['EHOSTUNREACH', 'network'],
    ['UNKNOWN', 'network'],
  ])('retries network error %s', (code, reason) => {
    expect(classifyAnswer(networkError(code))).toEqual({
      kind: 'retry',
      reason,
      retryAfterMs: null,
      detail: code,
    });
  });

  it('dead-letters 400 Bad Request', () => {
    const decision = classifyAnswer(response(400, '{"error": "Bad Request"}'));
    expect(decision).toEqual({
      kind: 'dead-letter',
      status: 400,
      error: 'Bad Request',
      body: '{"error": "Bad Request"}',
    });
  });

  it('pauses on 403 as token_rejected', () => {
    const decision = classifyAnswer(response(403, '{"error": "Forbidden"}'));
    expect(decision.kind).toBe('pause');
    expect(decision.kind).toBe('pause');
    expect(decision).toHaveProperty('reason', 'token_rejected');
  });

  it.each([
    [404, 'Method not found'],
    [400, 'Bad api version'],
    [400, 'Empty post data'],
    [400, 'Bad json'],
  ])('pauses on %i %s', (status, error) => {
    const decision = classifyAnswer(response(status, JSON.stringify({ error })));
    expect(decision).toEqual({
      kind: 'pause',
      reason: 'request_rejected',
      status,
      error,
      body: JSON.stringify({ error }),
    });
  });

  it('pauses on a 400 without error text', () => {
    const decision = classifyAnswer(response(400, '<html>Bad Request</html>'));
    expect(decision.kind).toBe('pause');
    expect(decision).toHaveProperty('reason', 'request_rejected');
  });

  it.each([401, 405, 413, 301])('pauses on other status %i', (status) => {
    const decision = classifyAnswer(response(status, ''));
    expect(decision.kind).toBe('pause');
    expect(decision).toHaveProperty('reason', 'request_rejected');
  });
});

describe('parseRetryAfterMs', () => {
  it('returns null when missing', () => {
    expect(parseRetryAfterMs(undefined)).toBeNull();
  });

  it('returns null when invalid', () => {
    expect(parseRetryAfterMs('soon')).toBeNull();
    expect(parseRetryAfterMs('-5')).toBeNull();
  });

  it('clamps a past date to zero', () => {
    expect(
      parseRetryAfterMs('Wed, 18 Mar 2026 10:00:00 GMT', Date.parse('2026-03-18T11:00:00Z'))
    ).toBe(0);
  });
});

describe('describePause', () => {
  it('names the token settings on 403', () => {
    const decision = classifyAnswer(response(403, '{"error": "Forbidden"}'));
    if (decision.kind !== 'pause') throw new Error('expected a pause');
    expect(describePause(decision, tracker)).toBe(
      'the tracker rejected the token for app 1027600 (403 Forbidden): check tracker.token/tokenFile and tracker.appId; delivery is paused and every event is kept'
    );
  });

  it('names tracker.url on 404', () => {
    const decision = classifyAnswer(response(404, '{"error": "Method not found"}'));
    if (decision.kind !== 'pause') throw new Error('expected a pause');
    const message = describePause(decision, tracker);
    expect(message).toContain('404 Method not found for https://tracker.example/v1/customEvent/');
    expect(message).toContain('check tracker.url');
  });

  it('names the proxy on Bad json', () => {
    const decision = classifyAnswer(response(400, '{"error": "Bad json"}'));
    if (decision.kind !== 'pause') throw new Error('expected a pause');
    expect(describePause(decision, tracker)).toContain('check any proxy');
  });
});
