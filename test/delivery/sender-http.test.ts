import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { trackerSchema } from '../../src/config/schema.js';
import { classifyAnswer } from '../../src/delivery/answer-policy.js';
import { createSender, type Sender } from '../../src/delivery/sender.js';
import { APP_ID, makeEvent, TOKEN } from './harness.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

const servers: Server[] = [];
let sender: Sender | undefined;

afterEach(async () => {
  await sender?.close();
  sender = undefined;
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** Starts a server on 127.0.0.1 and returns its tracker URL. */
async function serve(server: Server, scheme = 'http'): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return `${scheme}://127.0.0.1:${port}/v1/customEvent/`;
}

function tracker(url: string, overrides: Record<string, unknown> = {}) {
  return trackerSchema.parse({ url, appId: APP_ID, region: '88', timeoutMs: 2000, ...overrides });
}

/** Responds with `{"message":"OK"}` once the request body has arrived. */
const answerOk: Handler = (request, response) => {
  request.resume();
  request.on('end', () => response.end('{"message":"OK"}'));
};

describe('sender over node:http', () => {
  it('sets content-length, not chunked', async () => {
    const seen: IncomingMessage[] = [];
    const url = await serve(
      createHttpServer((request, response) => {
        seen.push(request);
        answerOk(request, response);
      })
    );
    sender = createSender({ tracker: tracker(url), token: TOKEN });

    expect(await sender.send(makeEvent(0))).toMatchObject({ kind: 'response', status: 200 });
    expect(seen[0]?.headers['transfer-encoding']).toBeUndefined();
    expect(Number(seen[0]?.headers['content-length'])).toBeGreaterThan(0);
  });

  it('opens at most maxSockets connections', async () => {
    let connections = 0;
    let open = 0;
    let maxOpen = 0;
    const server = createHttpServer((request, response) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      request.resume();
      setTimeout(() => {
        open--;
        response.end('{"message":"OK"}');
      }, 50);
    });
    server.on('connection', () => connections++);
    const url = await serve(server);
    sender = createSender({ tracker: tracker(url), token: TOKEN, maxSockets: 2 });

    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => sender!.send(makeEvent(i))));
    for (const result of results) expect(result).toMatchObject({ status: 200 });
    expect(connections).toBe(2);
    expect(maxOpen).toBe(2);
  });

  it('times out a trickling body', async () => {
    // Every chunk arrives well within the deadline, so only a deadline for the whole request ends it.
    const url = await serve(
      createHttpServer((request, response) => {
        request.resume();
        response.writeHead(200);
        const timer = setInterval(() => response.write(' '), 30);
        response.on('close', () => clearInterval(timer));
      })
    );
    sender = createSender({ tracker: tracker(url, { timeoutMs: 300 }), token: TOKEN });

    const startedAt = performance.now();
    const result = await sender.send(makeEvent(1));
    expect(performance.now() - startedAt).toBeLessThan(1500);
    expect(result).toMatchObject({ kind: 'network-error', code: 'TIMEOUT' });
  });

  it('reports a body cut off', async () => {
    const url = await serve(
      createHttpServer((request, response) => {
        request.resume();
        response.writeHead(200, { 'content-length': '100' });
        response.write('{"message":');
        setTimeout(() => response.socket?.destroy(), 20);
      })
    );
    sender = createSender({ tracker: tracker(url), token: TOKEN });

    const result = await sender.send(makeEvent(1));
    expect(result.kind).toBe('network-error');
    if (result.kind === 'aborted') return;
    expect(classifyAnswer(result)).toMatchObject({ kind: 'retry', reason: 'connection_reset' });
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('returns aborted for an aborted signal', async () => {
    let requests = 0;
    const url = await serve(
      createHttpServer((request, response) => {
        requests++;
        answerOk(request, response);
      })
    );
    sender = createSender({ tracker: tracker(url), token: TOKEN });

    expect(await sender.send(makeEvent(1), AbortSignal.abort())).toEqual({ kind: 'aborted' });
    expect(requests).toBe(0);
  });

  it('close waits for requests in flight', async () => {
    const url = await serve(
      createHttpServer((request, response) => {
        request.resume();
        setTimeout(() => response.end('{"message":"OK"}'), 200);
      })
    );
    sender = createSender({ tracker: tracker(url), token: TOKEN });

    const sending = sender.send(makeEvent(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sender.close();
    expect(await sending).toMatchObject({ kind: 'response', status: 200 });
  });
});

describe('sender over node:https', () => {
  it('ignores NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sender-tls-'));
    const saved = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    try {
      const key = join(dir, 'key.pem');
      const cert = join(dir, 'cert.pem');
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
        ].concat(
          ['-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'],
          ['-addext', 'subjectAltName=IP:127.0.0.1']
        ),
        { stdio: 'ignore' }
      );
      const server = createHttpsServer(
        { key: await readFile(key), cert: await readFile(cert) },
        answerOk
      );
      const url = await serve(server, 'https');
      process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
      sender = createSender({ tracker: tracker(url), token: TOKEN });

      const result = await sender.send(makeEvent(1));
      expect(result.kind).toBe('network-error');
      if (result.kind === 'aborted') return;
      expect(classifyAnswer(result)).toMatchObject({ kind: 'retry', reason: 'tls' });
    } finally {
      if (saved === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
