import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { trackerSchema } from '../../src/config/schema.js';
import { classifyAnswer } from '../../src/delivery/answer-policy.js';
import { createSender, MAX_RESPONSE_BODY_CHARS, type Sender } from '../../src/delivery/sender.js';
import { buildRequestBody } from '../../src/events/event.js';
import {
  type MockTracker,
  type ReceivedRequest,
  type ScriptedAnswer,
  startMockTracker,
} from '../../src/mock-tracker/server.js';
import { APP_ID, makeEvent, TOKEN } from './harness.js';

let dir: string;
let tracker: MockTracker;
let seen: ReceivedRequest[];
let script: (() => ScriptedAnswer | undefined) | undefined;
let sender: Sender | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sender-'));
  tracker = await startMockTracker({
    appId: APP_ID,
    token: TOKEN,
    respond: (request) => {
      seen.push(request);
      return script?.();
    },
  });
});

afterEach(async () => {
  await sender?.close();
  sender = undefined;
  script = undefined;
});

afterAll(async () => {
  await tracker.close();
  await rm(dir, { recursive: true, force: true });
});

function settings(overrides: Record<string, unknown> = {}) {
  seen = [];
  return trackerSchema.parse({
    url: tracker.url,
    appId: APP_ID,
    region: '88',
    timeoutMs: 2000,
    ...overrides,
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('sender requests', () => {
  it('sends the contract request', async () => {
    sender = createSender({ tracker: settings(), token: TOKEN });
    const event = makeEvent(0, { userId: '9007199254740993' });

    const result = await sender.send(event);
    expect(result).toMatchObject({ kind: 'response', status: 200 });
    const request = seen[0];
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/customEvent/');
    expect(request?.idApp).toBe(String(APP_ID));
    expect(request?.authorization).toBe(TOKEN);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.bodyText).toBe(buildRequestBody(event, '88'));
  });

  it('returns status, body and headers', async () => {
    sender = createSender({ tracker: settings(), token: TOKEN });
    script = () => ({ status: 503, body: { error: 'busy' }, headers: { 'Retry-After': '9' } });

    const result = await sender.send(makeEvent(1));
    expect(result.kind).toBe('response');
    if (result.kind !== 'response') return;
    expect(result.status).toBe(503);
    expect(result.body).toBe('{"error":"busy"}');
    expect(result.headers['retry-after']).toBe('9');
  });

  it('caps a long response body', async () => {
    sender = createSender({ tracker: settings(), token: TOKEN });
    script = () => ({ status: 500, body: 'x'.repeat(100_000) });

    const result = await sender.send(makeEvent(1));
    expect(result.kind).toBe('response');
    if (result.kind !== 'response') return;
    expect(result.body.length).toBe(MAX_RESPONSE_BODY_CHARS);
  });

  it('times out a slow tracker', async () => {
    sender = createSender({ tracker: settings({ timeoutMs: 200 }), token: TOKEN });
    script = () => ({ delayMs: 3000 });

    const startedAt = performance.now();
    const result = await sender.send(makeEvent(1));
    expect(performance.now() - startedAt).toBeLessThan(1500);
    expect(result.kind).toBe('network-error');
    if (result.kind === 'aborted') return;
    expect(classifyAnswer(result)).toMatchObject({ kind: 'retry', reason: 'timeout' });
  });

  it('returns aborted on abort', async () => {
    sender = createSender({ tracker: settings(), token: TOKEN });
    script = () => ({ delayMs: 3000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    expect(await sender.send(makeEvent(1), controller.signal)).toEqual({ kind: 'aborted' });
  });

  it('reports a refused connection', async () => {
    const server = createHttpServer();
    const port = await listen(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    sender = createSender({
      tracker: settings({ url: `http://127.0.0.1:${port}/v1/customEvent/` }),
      token: TOKEN,
    });

    const result = await sender.send(makeEvent(1));
    expect(result).toMatchObject({ kind: 'network-error', code: 'ECONNREFUSED' });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('reuses kept-alive connections', async () => {
    let connections = 0;
    const server = createHttpServer((_request, response) => {
      _request.resume();
      _request.on('end', () => response.end('{"message":"OK"}'));
    });
    server.on('connection', () => connections++);
    const port = await listen(server);
    sender = createSender({
      tracker: settings({ url: `http://127.0.0.1:${port}/v1/customEvent/` }),
      token: TOKEN,
    });
    try {
      for (let index = 0; index < 6; index++) {
        expect(await sender.send(makeEvent(index))).toMatchObject({ status: 200 });
      }
      // A second socket may open while the first is being released; never one per request.
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      await sender.close();
      sender = undefined;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('sender TLS', () => {
  let https: Server;
  let url: string;
  let caFile: string;

  beforeAll(async () => {
    const key = join(dir, 'key.pem');
    caFile = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        caFile,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' }
    );
    https = createHttpsServer(
      { key: await readFile(key), cert: await readFile(caFile) },
      (request, response) => {
        request.resume();
        request.on('end', () => response.end('{"message":"OK"}'));
      }
    );
    url = `https://127.0.0.1:${await listen(https)}/v1/customEvent/`;
  });

  afterAll(async () => {
    https.closeAllConnections();
    await new Promise<void>((resolve) => https.close(() => resolve()));
  });

  it('rejects an untrusted certificate', async () => {
    sender = createSender({ tracker: settings({ url }), token: TOKEN });

    const result = await sender.send(makeEvent(1));
    expect(result.kind).toBe('network-error');
    if (result.kind === 'aborted') return;
    expect(classifyAnswer(result)).toMatchObject({ kind: 'retry', reason: 'tls' });
  });

  it('trusts the CA from caFile', async () => {
    sender = createSender({ tracker: settings({ url, caFile }), token: TOKEN });

    expect(await sender.send(makeEvent(1))).toMatchObject({ kind: 'response', status: 200 });
  });

  it('rejects a missing caFile', () => {
    const missing = join(dir, 'missing.pem');
    expect(() => createSender({ tracker: settings({ caFile: missing }), token: TOKEN })).toThrow(
      `tracker.caFile ${missing} cannot be read (ENOENT): point it at a readable PEM file`
    );
  });

  it('rejects a caFile without PEM', async () => {
    const notPem = join(dir, 'not.pem');
    await writeFile(notPem, 'hello');
    expect(() => createSender({ tracker: settings({ caFile: notPem }), token: TOKEN })).toThrow(
      'contains no PEM certificate'
    );
  });
});

describe('sender proxy', () => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };

  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('goes through HTTP_PROXY', async () => {
    const proxied: string[] = [];
    const proxy = createHttpServer((request, response) => {
      // Plain forwarding of an absolute-URI request.
      proxied.push(`forward ${request.url}`);
      const target = new URL(request.url ?? '');
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: request.method,
          headers: request.headers,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        }
      );
      request.pipe(upstream);
    });
    proxy.on('connect', (request, socket, head) => {
      proxied.push(`connect ${request.url}`);
      const [host, port] = (request.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
    });
    const port = await listen(proxy);
    process.env.HTTP_PROXY = `http://127.0.0.1:${port}`;
    delete process.env.NO_PROXY;
    try {
      sender = createSender({ tracker: settings(), token: TOKEN });
      expect(await sender.send(makeEvent(1))).toMatchObject({ kind: 'response', status: 200 });
      expect(proxied).toHaveLength(1);
      expect(proxied[0]).toContain(`127.0.0.1:${tracker.port}`);
      expect(seen).toHaveLength(1);
    } finally {
      await sender?.close();
      sender = undefined;
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('skips the proxy for NO_PROXY', async () => {
    process.env.HTTP_PROXY = 'http://127.0.0.1:9';
    process.env.NO_PROXY = '127.0.0.1';
    sender = createSender({ tracker: settings(), token: TOKEN });

    expect(await sender.send(makeEvent(1))).toMatchObject({ kind: 'response', status: 200 });
    expect(seen).toHaveLength(1);
  });
});
