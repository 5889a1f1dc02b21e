import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { startSinkProcess } from '../lib/sink-process.mjs';
import { startSink } from '../sink.mjs';

function post(url, body) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function body(userId, name = 'appointment_open') {
  return (
    `{"customUserId":"${userId}","customEventName":"${name}",` +
    '"customEventParams":{"bot_name":"b","region":"88"},"eventTimestamp":1714545098}'
  );
}

const sinks = [];
afterEach(async () => {
  for (const sink of sinks.splice(0)) await sink.close();
});

describe('sink', () => {
  it('answers 200 and counts events', async () => {
    const sink = await startSink();
    sinks.push(sink);
    const answer = await post(`${sink.url}?idApp=1027600`, body('1806953'));
    expect(answer.status).toBe(200);
    expect(answer.text).toBe('{"message":"OK"}');
    await post(`${sink.url}?idApp=1027600`, body('7', 'appointment_cancel'));
    const stats = sink.stats();
    expect(stats.requests).toBe(2);
    expect(stats.events).toBe(2);
    expect(stats.byName).toEqual({ appointment_open: 1, appointment_cancel: 1 });
  });

  it('sums ids above 2^53 exactly', async () => {
    const sink = await startSink();
    sinks.push(sink);
    // 2^53 + 1 and 2^62 + 3: a double would round both.
    await post(`${sink.url}?idApp=1`, body('9007199254740993'));
    await post(`${sink.url}?idApp=1`, body('4611686018427387907'));
    expect(sink.stats().userIdSum).toBe('4620693217682128900');
  });

  it('rejects a wrong path with 404', async () => {
    const sink = await startSink();
    sinks.push(sink);
    const noAppId = await post(sink.url, body('1'));
    const wrongPath = await post(
      `http://127.0.0.1:${sink.port}/v2/customEvent/?idApp=1`,
      body('1')
    );
    expect(noAppId.status).toBe(404);
    expect(wrongPath.status).toBe(404);
    expect(sink.stats().events).toBe(0);
    expect(sink.stats().rejected).toBe(2);
  });

  it('delays answers by delayMs', async () => {
    const sink = await startSink({ delayMs: 50 });
    sinks.push(sink);
    const startedAt = performance.now();
    await post(`${sink.url}?idApp=1`, body('1'));
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(45);
  });

  it('counts duplicate bodies and in-flight peak', async () => {
    const sink = await startSink({ delayMs: 100 });
    sinks.push(sink);
    await Promise.all([1, 2, 3].map(() => post(`${sink.url}?idApp=1`, body('5'))));
    expect(sink.stats().duplicateBodies).toBe(2);
    expect(sink.stats().maxInFlight).toBe(3);
  });

  it('reports receipt times to onEvent', async () => {
    const received = [];
    const sink = await startSink({ onEvent: (event) => received.push(event) });
    sinks.push(sink);
    const sentAt = performance.now();
    await post(`${sink.url}?idApp=1`, body('42'));
    expect(received).toHaveLength(1);
    expect(received[0].userId).toBe('42');
    expect(received[0].receivedAtMs).toBeGreaterThanOrEqual(sentAt);
  });
});

describe('sink process', () => {
  it('prints results on SIGTERM', async () => {
    const sink = await startSinkProcess({ delayMs: 1 });
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/customEvent\/$/);
    await post(`${sink.url}?idApp=1`, body('9007199254740993'));
    const results = await sink.stop();
    expect(results.events).toBe(1);
    expect(results.userIdSum).toBe('9007199254740993');
  });

  it('rejects an unknown option', async () => {
    const sinkPath = new URL('../sink.mjs', import.meta.url).pathname;
    const outcome = await new Promise((resolve) => {
      execFile(process.execPath, [sinkPath, '--delay', '5'], (error, _stdout, stderr) =>
        resolve({ code: error?.code, stderr })
      );
    });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('unknown option --delay');
  });
});
