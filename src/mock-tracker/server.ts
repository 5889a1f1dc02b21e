import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'lossless-json';
import type { Logger } from '../observability/logger.js';
import {
  type ReceivedRequest,
  type TrackerRequestBody,
  type Verdict,
  validateRequest,
} from './validate.js';

export type { ReceivedRequest, TrackerRequestBody } from './validate.js';

/** An event the mock tracker accepted with 200. */
export interface ReceivedEvent {
  /** Epoch ms when the body was read. */
  receivedAt: number;
  idApp: string;
  body: TrackerRequestBody;
  /** Body exactly as received. */
  bodyText: string;
}

/**
 * A test's scripted response to one request, applied before validation. With a `status` the
 * mock sends it as is. With `drop` it destroys the socket without a response. With only
 * `delayMs` it waits and then validates as usual.
 */
export interface ScriptedAnswer {
  status?: number;
  /** Response body: a string is sent as is, anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  drop?: boolean;
}

export interface MockTrackerOptions {
  port?: number;
  /** Address to bind, 127.0.0.1 by default. */
  host?: string;
  appId: number | string;
  token: string;
  /** JSON lines file that every accepted event is appended to. */
  recordPath?: string;
  respond?: (
    request: ReceivedRequest
  ) => ScriptedAnswer | undefined | Promise<ScriptedAnswer | undefined>;
  logger?: Logger;
}

/** A request the mock tracker rejected after validation. */
export interface RejectedRequest {
  status: number;
  error: string;
}

/**
 * A running mock tracker. Emits `event` with a `ReceivedEvent` for every accepted event, and
 * `rejected` with a `RejectedRequest` for every request that failed validation.
 */
export interface MockTracker extends EventEmitter {
  /** Endpoint URL, `http://HOST:PORT/v1/customEvent/`. */
  readonly url: string;
  readonly port: number;
  /** Accepted events in arrival order. */
  readonly received: ReceivedEvent[];
  /** Requests read so far, accepted or not. */
  readonly requests: number;
  /** Requests read and not yet responded to. */
  readonly inFlight: number;
  /** Highest `inFlight` seen. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

/** Largest request body kept, in bytes. A larger one gets status 413. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Starts a local implementation of the tracker's S2S API that validates like the real one (see
 * `validateRequest`) and records what it accepted. Resolves once the server listens.
 */
export async function startMockTracker(options: MockTrackerOptions): Promise<MockTracker> {
  const expected = { appId: String(options.appId), token: options.token };
  if (!/^\d+$/.test(expected.appId)) {
    throw new Error(
      `invalid mock tracker app id ${JSON.stringify(options.appId)}: pass the decimal digits of the app id, such as 1027600`
    );
  }
  const host = options.host ?? '127.0.0.1';
  const timers = new Set<NodeJS.Timeout>();
  const tracker = new EventEmitter() as MockTracker;
  const state = { received: [] as ReceivedEvent[], requests: 0, inFlight: 0, maxInFlight: 0 };

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const handle = async (message: IncomingMessage, response: ServerResponse) => {
    const bodyText = await readBody(message);
    if (bodyText === null) {
      send(response, 413, { error: 'Request Entity Too Large' });
      return;
    }
    state.requests++;
    const request = toReceivedRequest(message, bodyText, state.requests);
    const scripted = options.respond ? await options.respond(request) : undefined;
    if (scripted?.delayMs) await delay(scripted.delayMs);
    if (response.destroyed) return;
    if (scripted?.drop) {
      message.socket.destroy();
      return;
    }
    if (scripted?.status !== undefined) {
      send(response, scripted.status, scripted.body ?? '', scripted.headers);
      return;
    }
    const verdict = validateRequest(request, expected);
    if (verdict.accepted) accept(request, verdict.accepted);
    else reject(verdict.status, verdict.body.error);
    send(response, verdict.status, verdict.body);
  };

  const reject = (status: number, error: string) => {
    options.logger?.info({ status, error }, 'Mock tracker rejected a request.');
    tracker.emit('rejected', { status, error } satisfies RejectedRequest);
  };

  const accept = (request: ReceivedRequest, accepted: NonNullable<Verdict['accepted']>) => {
    const event: ReceivedEvent = {
      receivedAt: request.receivedAt,
      idApp: request.idApp ?? '',
      body: accepted.body,
      bodyText: request.bodyText,
    };
    if (options.recordPath) {
      // lossless-json writes the parsed numbers back with their original digits.
      const line = `{"receivedAt":${event.receivedAt},"idApp":${JSON.stringify(event.idApp)},"body":${stringify(accepted.parsed)}}\n`;
      appendFileSync(options.recordPath, line);
    }
    state.received.push(event);
    options.logger?.debug(
      { event: accepted.body.customEventName },
      'Mock tracker accepted an event.'
    );
    tracker.emit('event', event);
  };

  const server = createServer((message, response) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      state.inFlight--;
    };
    response.on('close', done);
    handle(message, response).catch((error: unknown) => {
      options.logger?.error({ err: error }, 'Mock tracker failed to answer a request.');
      if (!response.headersSent) send(response, 500, { error: 'Internal Server Error' });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  Object.defineProperties(tracker, {
    url: { value: `http://${urlHost}:${port}/v1/customEvent/`, enumerable: true },
    port: { value: port, enumerable: true },
    received: { get: () => state.received, enumerable: true },
    requests: { get: () => state.requests, enumerable: true },
    inFlight: { get: () => state.inFlight, enumerable: true },
    maxInFlight: { get: () => state.maxInFlight, enumerable: true },
  });
  tracker.close = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return tracker;
}

function toReceivedRequest(
  message: IncomingMessage,
  bodyText: string,
  index: number
): ReceivedRequest {
  const url = new URL(message.url ?? '/', 'http://mock.invalid');
  const authorization = message.headers.authorization;
  return {
    index,
    method: message.method ?? '',
    path: url.pathname,
    idApp: url.searchParams.get('idApp'),
    authorization: authorization ?? null,
    headers: message.headers,
    bodyText,
    receivedAt: Date.now(),
  };
}

/**
 * Reads the whole body as UTF-8, or returns null when it exceeds `MAX_BODY_BYTES`. The rest of
 * a large body is read and dropped so that the response can still be sent on the connection.
 */
async function readBody(message: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of message) {
    bytes += (chunk as Buffer).length;
    if (bytes <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return bytes > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8');
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  if (response.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}
