import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRequestBody } from '../../src/events/event.js';
import type { ScriptedAnswer } from '../../src/mock-tracker/server.js';
import { startMockTracker } from '../../src/mock-tracker/server.js';
import { APP_ID, Harness, makeEvent, TOKEN, waitFor } from './harness.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const events = (count: number) => Array.from({ length: count }, (_, index) => makeEvent(index));

/** Port that nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('dispatcher delivery', () => {
  it('acknowledges every event', async () => {
    harness = await Harness.start({ events: events(5) });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.received.map((event) => event.body.customUserId).sort()).toEqual(
      events(5).map((event) => event.userId)
    );
    expect(harness.outbox.stats().events).toBe(0);
    expect(await harness.metric('events_acknowledged_total', { event: 'appointment_open' })).toBe(
      3
    );
    expect(await harness.metric('events_sent_total', { event: 'appointment_cancel' })).toBe(2);
    expect(await harness.metric('responses_total', { status: '200' })).toBe(5);
    const health = harness.dispatcher.health();
    expect(health.state).toBe('idle');
    expect(health.lastSuccessAt).not.toBeNull();
    expect(await harness.metric('last_delivery_timestamp_seconds')).toBeGreaterThan(0);
  });

  it('sends the exact request body', async () => {
    const event = makeEvent(0, { userId: '9007199254740993' });
    harness = await Harness.start({ events: [event] });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    const received = harness.tracker.received[0];
    expect(received?.bodyText).toBe(buildRequestBody(event, '88'));
    expect(received?.body.customUserId).toBe('9007199254740993');
    expect(received?.idApp).toBe(String(APP_ID));
  });

  it('delivers events appended later', async () => {
    harness = await Harness.start();
    harness.dispatcher.start();
    harness.append(events(3));

    await waitFor(() => harness?.tracker.received.length === 3, 5000, 'three events');
    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
  });
});

describe('dispatcher transient failures', () => {
  it.each([500, 502, 503, 504, 429])('retries status %i', async (status) => {
    harness = await Harness.start({
      events: [makeEvent(1)],
      respond: (request) =>
        request.index === 1 ? { status, body: { error: 'Internal Server Error' } } : undefined,
    });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.requests).toBe(2);
    expect(harness.tracker.received).toHaveLength(1);
    expect(await harness.metric('retries_total', { reason: `http_${status}` })).toBe(1);
    expect(await harness.metric('responses_total', { status: String(status) })).toBe(1);
    expect((await harness.readDeadLetters()).length).toBe(0);
    const health = harness.dispatcher.health();
    expect(health.state).toBe('idle');
    expect(health.consecutiveFailures).toBe(0);
    expect(health.lastError).toBe(`HTTP ${status}`);
  });

  it('honours Retry-After seconds', async () => {
    const times: number[] = [];
    harness = await Harness.start({
      events: [makeEvent(1)],
      delivery: { maxBackoffMs: 5000 },
      respond: (request) => {
        times.push(performance.now());
        if (request.index > 1) return undefined;
        return {
          status: 429,
          body: { error: 'Too Many Requests' },
          headers: { 'retry-after': '1' },
        };
      },
    });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(times).toHaveLength(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(harness.tracker.received).toHaveLength(1);
  });

  it('retries a dropped connection', async () => {
    harness = await Harness.start({
      events: [makeEvent(1)],
      respond: (request): ScriptedAnswer | undefined =>
        request.index === 1 ? { drop: true } : undefined,
    });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.requests).toBe(2);
    expect(harness.tracker.received).toHaveLength(1);
    expect(await harness.metric('responses_total', { status: 'error' })).toBe(1);
    expect(await harness.metric('retries_total', { reason: 'connection_reset' })).toBe(1);
  });

  it('retries a refused connection', async () => {
    const port = await closedPort();
    harness = await Harness.start({
      events: events(3),
      url: `http://127.0.0.1:${port}/v1/customEvent/`,
    });
    harness.dispatcher.start();

    await waitFor(
      () => (harness?.dispatcher.health().consecutiveFailures ?? 0) >= 3,
      5000,
      'failures'
    );
    const health = harness.dispatcher.health();
    expect(health.state).toBe('retrying');
    expect(health.reason).toBe('tracker_unreachable');
    expect(health.lastError).toContain('ECONNREFUSED');
    expect(
      await harness.metric('retries_total', { reason: 'connection_refused' })
    ).toBeGreaterThanOrEqual(3);

    const revived = await startMockTracker({ port, appId: APP_ID, token: TOKEN });
    try {
      expect(await harness.dispatcher.drained()).toEqual({ ok: true });
      expect(revived.received).toHaveLength(3);
      expect(harness.dispatcher.health().state).toBe('idle');
    } finally {
      await revived.close();
    }
  });

  it('gives up draining after the limit', async () => {
    const port = await closedPort();
    harness = await Harness.start({
      events: [makeEvent(1)],
      url: `http://127.0.0.1:${port}/v1/customEvent/`,
    });
    harness.dispatcher.start();

    const startedAt = performance.now();
    const result = await harness.dispatcher.drained({ giveUpAfterMs: 300 });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain('unreachable for 300 ms');
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(250);
    expect(harness.outbox.stats().events).toBe(1);
  });

  it('dead-letters after maxRetries', async () => {
    harness = await Harness.start({
      events: [makeEvent(1)],
      delivery: { maxRetries: 2 },
      respond: () => ({ status: 503, body: { error: 'Service Unavailable' } }),
    });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.requests).toBe(3);
    const letters = await harness.readDeadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toBe('retries exhausted');
    expect(letters[0]?.status).toBe(503);
    expect(letters[0]?.event).toEqual(makeEvent(1));
    expect(
      await harness.metric('events_dead_lettered_total', { reason: 'retries_exhausted' })
    ).toBe(1);
  });
});

describe('dispatcher dead letters', () => {
  it('dead-letters a bad request only', async () => {
    harness = await Harness.start({
      events: events(4),
      respond: (request) =>
        request.bodyText.includes('"1806902"')
          ? { status: 400, body: { error: 'Bad Request' } }
          : undefined,
    });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.received.map((event) => event.body.customUserId).sort()).toEqual([
      '1806900',
      '1806901',
      '1806903',
    ]);
    const letters = await harness.readDeadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]?.reason).toBe('bad request');
    expect(letters[0]?.status).toBe(400);
    expect(letters[0]?.body).toBe('{"error":"Bad Request"}');
    expect(letters[0]?.event).toEqual(makeEvent(2));
    expect(letters[0]?.seq).toBe(3);
    expect(harness.outbox.stats().events).toBe(0);
    expect(harness.dispatcher.health().state).toBe('idle');
    expect(await harness.metric('events_dead_lettered_total', { reason: 'bad_request' })).toBe(1);
  });
});

describe('dispatcher failures', () => {
  it('keeps an event when dead-lettering fails', async () => {
    harness = await Harness.start({
      events: [makeEvent(1)],
      respond: () => ({ status: 400, body: { error: 'Bad Request' } }),
    });
    // A closed writer throws on write, as a full or read-only disk would.
    harness.deadLetters.close();
    harness.dispatcher.start();

    await waitFor(() => harness?.dispatcher.health().state === 'retrying', 5000, 'retrying');
    const failures = harness.logs
      .at(50)
      .filter((line) => String(line.msg).includes('Writing a dead letter failed'));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(failures[0]?.seq).toBe(1);
    expect(harness.outbox.stats().events).toBe(1);
    await harness.dispatcher.stop(1000);
    expect(harness.reopenPending()).toEqual([makeEvent(1)]);
  });

  it('updates the outbox gauges', async () => {
    harness = await Harness.start({
      events: events(3),
      respond: () => ({ status: 403, body: { error: 'Forbidden' } }),
    });
    harness.dispatcher.start();
    await new Promise((resolve) => setTimeout(resolve, 1100));

    expect(await harness.metric('outbox_events')).toBe(3);
    expect(await harness.metric('outbox_bytes')).toBeGreaterThan(0);
    expect(await harness.metric('outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(1);
  });
});

describe('dispatcher pauses', () => {
  it('pauses on 403 and resumes', async () => {
    let accept = false;
    harness = await Harness.start({
      events: events(3),
      delivery: { concurrency: 2 },
      respond: () => (accept ? undefined : { status: 403, body: { error: 'Forbidden' } }),
    });
    harness.dispatcher.start();

    const result = await harness.dispatcher.drained();
    expect(result.ok).toBe(false);
    const health = harness.dispatcher.health();
    expect(health.state).toBe('paused');
    expect(health.reason).toBe('token_rejected');
    expect(health.message).toContain('rejected the token for app 1027600 (403 Forbidden)');
    expect(health.message).toContain('tracker.token/tokenFile');
    expect(await harness.metric('delivery_paused', { reason: 'token_rejected' })).toBe(1);

    // Probes every 200 ms stay paused, and the pause is logged once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(harness.tracker.requests).toBeGreaterThanOrEqual(3);
    expect(harness.logs.at(50)).toHaveLength(1);
    expect(harness.tracker.received).toHaveLength(0);
    expect((await harness.readDeadLetters()).length).toBe(0);
    expect(harness.outbox.stats().events).toBe(3);

    accept = true;
    await waitFor(() => harness?.dispatcher.health().state !== 'paused', 5000, 'the resume');
    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.received).toHaveLength(3);
    expect(harness.dispatcher.health().state).toBe('idle');
    expect(await harness.metric('delivery_paused', { reason: 'token_rejected' })).toBe(0);
    expect(harness.logs.lines.some((line) => String(line.msg).includes('delivery resumed'))).toBe(
      true
    );
    expect(harness.logs.text).not.toContain(TOKEN);
  });

  it('keeps paused events across a stop', async () => {
    harness = await Harness.start({
      events: events(4),
      respond: () => ({ status: 403, body: { error: 'Forbidden' } }),
    });
    harness.dispatcher.start();
    expect((await harness.dispatcher.drained()).ok).toBe(false);
    await harness.dispatcher.stop(1000);

    expect(harness.reopenPending()).toEqual(events(4));
    expect((await harness.readDeadLetters()).length).toBe(0);
  });

  it.each([
    ['/v1/otherMethod/', '404 Method not found'],
    ['/v2/customEvent/', '400 Bad api version'],
  ])('pauses on path %s', async (path, answer) => {
    harness = await Harness.start({ events: events(2), path });
    harness.dispatcher.start();

    const result = await harness.dispatcher.drained();
    expect(result.ok).toBe(false);
    const health = harness.dispatcher.health();
    expect(health.state).toBe('paused');
    expect(health.reason).toBe('request_rejected');
    expect(health.message).toContain(answer);
    expect(health.message).toContain('tracker.url');
    expect(await harness.metric('delivery_paused', { reason: 'request_rejected' })).toBe(1);
    expect(harness.tracker.received).toHaveLength(0);
    expect(harness.outbox.stats().events).toBe(2);
    expect((await harness.readDeadLetters()).length).toBe(0);
  });

  it('probes at once after reconfigure', async () => {
    harness = await Harness.start({
      events: events(2),
      token: 'wrong-token-0000',
      delivery: { probeIntervalMs: 60_000 },
    });
    harness.dispatcher.start();
    expect((await harness.dispatcher.drained()).ok).toBe(false);
    expect(harness.dispatcher.health().reason).toBe('token_rejected');

    harness.dispatcher.reconfigure(harness.trackerConfig, TOKEN, harness.deliveryConfig);
    // The probe interval is a minute: only an immediate probe resumes within 5 s.
    await waitFor(() => harness?.dispatcher.health().state !== 'paused', 5000, 'the resume');
    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.received).toHaveLength(2);
    expect(harness.logs.text).not.toContain('wrong-token-0000');
  });
});

describe('dispatcher reload', () => {
  it('ignores a 403 sent before reload', async () => {
    harness = await Harness.start({
      events: [makeEvent(1)],
      token: 'old-token-1111',
      respond: (request) => (request.index === 1 ? { delayMs: 200 } : undefined),
    });
    harness.dispatcher.start();
    await waitFor(() => harness?.tracker.inFlight === 1, 5000, 'the request');

    harness.dispatcher.reconfigure(harness.trackerConfig, TOKEN, harness.deliveryConfig);
    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.requests).toBe(2);
    expect(harness.tracker.received).toHaveLength(1);
    expect(harness.logs.at(50)).toHaveLength(0);
    expect(await harness.metric('delivery_paused', { reason: 'token_rejected' })).toBe(0);
  });
});

describe('dispatcher limits', () => {
  it('never exceeds the concurrency', async () => {
    harness = await Harness.start({
      events: events(20),
      delivery: { concurrency: 3 },
      respond: () => ({ delayMs: 30 }),
    });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(harness.tracker.received).toHaveLength(20);
    expect(harness.tracker.maxInFlight).toBe(3);
  });

  it('respects the rate limit', async () => {
    const times: number[] = [];
    harness = await Harness.start({
      events: events(11),
      delivery: { concurrency: 8, maxRequestsPerSecond: 20 },
      respond: () => {
        times.push(performance.now());
        return undefined;
      },
    });
    harness.dispatcher.start();

    expect(await harness.dispatcher.drained()).toEqual({ ok: true });
    expect(times).toHaveLength(11);
    // 20 per second spaces requests 50 ms apart: 10 gaps take at least 500 ms.
    expect((times[10] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(480);
    for (let index = 1; index < times.length; index++) {
      expect((times[index] ?? 0) - (times[index - 1] ?? 0)).toBeGreaterThanOrEqual(40);
    }
  });

  it('stop waits for requests in flight', async () => {
    harness = await Harness.start({ events: [makeEvent(1)], respond: () => ({ delayMs: 300 }) });
    harness.dispatcher.start();
    await waitFor(() => harness?.tracker.inFlight === 1, 5000, 'the request');

    const startedAt = performance.now();
    await harness.dispatcher.stop(3000);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(200);
    expect(harness.tracker.received).toHaveLength(1);
    expect(harness.reopenPending()).toEqual([]);
  });

  it('stop aborts after its timeout', async () => {
    harness = await Harness.start({ events: [makeEvent(1)], respond: () => ({ delayMs: 5000 }) });
    harness.dispatcher.start();
    await waitFor(() => harness?.tracker.inFlight === 1, 5000, 'the request');

    const startedAt = performance.now();
    await harness.dispatcher.stop(100);
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(harness.tracker.received).toHaveLength(0);
    expect(harness.reopenPending()).toEqual([makeEvent(1)]);
  });
});
