import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type MockTracker,
  type ScriptedAnswer,
  startMockTracker,
} from '../../src/mock-tracker/server.js';

const APP_ID = 1027600;
const TOKEN = 'test-token-7f3a';

const validBody = {
  customUserId: '1806953',
  customEventName: 'appointment_open',
  customEventParams: { bot_name: 'mfc_bot', region: '88' },
  eventTimestamp: 1773846503,
};

let dir: string;
let tracker: MockTracker;
let script: ((index: number) => ScriptedAnswer | undefined) | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mock-tracker-'));
  script = undefined;
  tracker = await startMockTracker({
    appId: APP_ID,
    token: TOKEN,
    recordPath: join(dir, 'received.jsonl'),
    respond: (received) => script?.(received.index),
  });
});

afterEach(async () => {
  await tracker.close();
  await rm(dir, { recursive: true, force: true });
});

interface Post {
  path?: string;
  query?: string;
  token?: string | null;
  body?: string;
  method?: string;
}

async function post(options: Post = {}) {
  const base = new URL(tracker.url);
  const path = options.path ?? base.pathname;
  const query = options.query ?? `idApp=${APP_ID}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.authorization = token;
  const response = await request(`${base.origin}${path}?${query}`, {
    method: (options.method ?? 'POST') as 'POST',
    headers,
    body: options.body ?? JSON.stringify(validBody),
  });
  return {
    status: response.statusCode,
    body: await response.body.text(),
    headers: response.headers,
  };
}

describe('mock tracker contract table', () => {
  it('accepts a valid event', async () => {
    const answer = await post();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ message: 'OK' });
    expect(tracker.received).toHaveLength(1);
    expect(tracker.received[0]?.body).toEqual(validBody);
    expect(tracker.received[0]?.idApp).toBe(String(APP_ID));
  });

  it('rejects an invalid field', async () => {
    const answer = await post({ body: JSON.stringify({ ...validBody, customUserId: 1806953 }) });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Bad Request' });
    expect(tracker.received).toHaveLength(0);
  });

  it('rejects a wrong token', async () => {
    const answer = await post({ token: 'another-token' });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Forbidden' });
  });

  it('rejects an empty body', async () => {
    const answer = await post({ body: '' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Empty post data' });
  });

  it('rejects invalid JSON', async () => {
    const answer = await post({ body: '{"customUserId": "1806953",' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Bad json' });
  });

  it('rejects another API version', async () => {
    const answer = await post({ path: '/v2/customEvent/' });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Bad api version' });
  });

  it('rejects an unknown method', async () => {
    const answer = await post({ path: '/v1/otherMethod/' });
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Method not found' });
  });

  it('sends a scripted 500', async () => {
    script = () => ({ status: 500, body: { error: 'Internal Server Error' } });
    const answer = await post();
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Internal Server Error' });
    expect(tracker.received).toHaveLength(0);
  });
});

describe('mock tracker validation', () => {
  it('accepts the path without trailing slash', async () => {
    const answer = await post({ path: '/v1/customEvent' });
    expect(answer.status).toBe(200);
  });

  it('rejects a missing token', async () => {
    const answer = await post({ token: null });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Forbidden' });
  });

  it('rejects another app id', async () => {
    const answer = await post({ query: 'idApp=1027601' });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Forbidden' });
  });

  it('rejects a missing app id', async () => {
    for (const query of ['', 'idApp=', 'idApp=abc']) {
      const answer = await post({ query });
      expect(answer.status, query).toBe(400);
      expect(JSON.parse(answer.body), query).toEqual({ error: 'Bad Request' });
    }
  });

  it('answers GET with 404', async () => {
    const response = await request(`${tracker.url}?idApp=${APP_ID}`, {
      headers: { authorization: TOKEN },
    });
    expect(response.statusCode).toBe(404);
    expect(await response.body.json()).toEqual({ error: 'Method not found' });
  });

  it('rejects each malformed field', async () => {
    const cases: [string, unknown][] = [
      ['user id with letters', { ...validBody, customUserId: '18069a' }],
      ['empty user id', { ...validBody, customUserId: '' }],
      ['user id above 2^64', { ...validBody, customUserId: '18446744073709551616' }],
      ['empty event name', { ...validBody, customEventName: '' }],
      ['event name number', { ...validBody, customEventName: 5 }],
      ['params missing', { ...validBody, customEventParams: undefined }],
      ['region number', { ...validBody, customEventParams: { bot_name: 'mfc_bot', region: 88 } }],
      ['bot name missing', { ...validBody, customEventParams: { region: '88' } }],
      [
        'extra param',
        { ...validBody, customEventParams: { ...validBody.customEventParams, x: '1' } },
      ],
      ['timestamp string', { ...validBody, eventTimestamp: '1773846503' }],
      ['timestamp fraction', { ...validBody, eventTimestamp: 1773846503.5 }],
      ['timestamp negative', { ...validBody, eventTimestamp: -1 }],
      ['extra top-level key', { ...validBody, phone: '+79990000000' }],
      ['array body', [validBody]],
      ['null body', null],
    ];
    for (const [name, body] of cases) {
      const answer = await post({ body: JSON.stringify(body) });
      expect(answer.status, name).toBe(400);
      expect(JSON.parse(answer.body), name).toEqual({ error: 'Bad Request' });
    }
    expect(tracker.received).toHaveLength(0);
  });

  it('rejects the largest user id plus one', async () => {
    const largest = await post({
      body: JSON.stringify({ ...validBody, customUserId: '18446744073709551615' }),
    });
    expect(largest.status).toBe(200);
    const tooLarge = await post({
      body: JSON.stringify({ ...validBody, customUserId: '18446744073709551616' }),
    });
    expect(tooLarge.status).toBe(400);
  });
});

describe('mock tracker recording', () => {
  it('keeps a 2^53+1 user id exact', async () => {
    const body = JSON.stringify({ ...validBody, customUserId: '9007199254740993' });
    expect((await post({ body })).status).toBe(200);

    expect(tracker.received[0]?.body.customUserId).toBe('9007199254740993');
    expect(tracker.received[0]?.bodyText).toBe(body);
    const line = (await readFile(join(dir, 'received.jsonl'), 'utf8')).trim();
    expect(line).toContain('"customUserId":"9007199254740993"');
    expect(line).toContain('"eventTimestamp":1773846503');
    const record = JSON.parse(line);
    expect(record.idApp).toBe(String(APP_ID));
    expect(typeof record.receivedAt).toBe('number');
  });

  it('appends one line per event', async () => {
    await post();
    await post({ token: 'wrong-token' });
    await post({ body: JSON.stringify({ ...validBody, customEventName: 'appointment_cancel' }) });
    const lines = (await readFile(join(dir, 'received.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1] ?? '').body.customEventName).toBe('appointment_cancel');
    expect(tracker.requests).toBe(3);
  });

  it('emits an event per acceptance', async () => {
    const seen: string[] = [];
    tracker.on('event', (event) => seen.push(event.body.customEventName));
    await post();
    expect(seen).toEqual(['appointment_open']);
  });
});

describe('mock tracker scripts', () => {
  it('sends scripted headers', async () => {
    script = () => ({
      status: 429,
      body: { error: 'Too Many Requests' },
      headers: { 'retry-after': '3' },
    });
    const answer = await post();
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('3');
  });

  it('drops the connection', async () => {
    script = () => ({ drop: true });
    await expect(post()).rejects.toThrow();
    expect(tracker.received).toHaveLength(0);
  });

  it('delays then validates', async () => {
    script = () => ({ delayMs: 150 });
    const startedAt = performance.now();
    const answer = await post();
    expect(answer.status).toBe(200);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(140);
    expect(tracker.received).toHaveLength(1);
  });

  it('counts simultaneous requests', async () => {
    script = () => ({ delayMs: 100 });
    await Promise.all([post(), post(), post()]);
    expect(tracker.maxInFlight).toBe(3);
    expect(tracker.inFlight).toBe(0);
  });

  it('closes with a delayed answer pending', async () => {
    script = () => ({ delayMs: 10_000 });
    const pending = post().catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = performance.now();
    await tracker.close();
    expect(performance.now() - startedAt).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
