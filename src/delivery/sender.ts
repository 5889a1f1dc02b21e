import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, type Dispatcher, EnvHttpProxyAgent, request } from 'undici';
import type { TrackerConfig } from '../config/schema.js';
import { buildRequestBody, type TrackerEvent } from '../events/event.js';
import { maskSecrets } from '../observability/logger.js';

/** Outcome of one request: the tracker's response, a network error, or an abort by the caller. */
export type SendResult =
  | { kind: 'response'; status: number; body: string; headers: Record<string, string> }
  | { kind: 'network-error'; code: string; message: string }
  | { kind: 'aborted' };

/** A result the answer policy classifies: everything but an abort by the caller. */
export type TrackerAnswer = Exclude<SendResult, { kind: 'aborted' }>;

/** Sends events to the tracker over one keep-alive connection pool. */
export interface Sender {
  /** Sends one event; never rejects. An abort through `signal` returns `aborted`. */
  send(event: TrackerEvent, signal?: AbortSignal): Promise<SendResult>;
  /** Waits for requests in flight, then closes the connections. */
  close(): Promise<void>;
}

/** Characters of a response body kept for logs and dead letters. */
export const MAX_RESPONSE_BODY_CHARS = 4096;

/** Bytes of a response body read before the connection is dropped instead of drained. */
const MAX_DRAIN_BYTES = 1024 * 1024;

/** Idle time after which a kept-alive connection is closed, in ms. */
const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/**
 * Creates the sender for one set of tracker settings. Requests go to `tracker.url` with
 * `?idApp=`, the token in `Authorization` and a timeout of `tracker.timeoutMs` per request.
 * TLS verification is always on; `tracker.caFile` adds a CA to the system roots, and the proxy
 * variables (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) are honoured when set. Throws when
 * `caFile` is not a readable PEM file.
 */
export function createSender(options: { tracker: TrackerConfig; token: string }): Sender {
  const { tracker, token } = options;
  const url = new URL(tracker.url);
  url.searchParams.set('idApp', String(tracker.appId));
  const target = url.toString();
  const dispatcher = createHttpDispatcher(tracker);
  const headers = { authorization: token, 'content-type': 'application/json' };

  return {
    async send(event, signal) {
      const timeout = AbortSignal.timeout(tracker.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        const response = await request(target, {
          method: 'POST',
          headers,
          body: buildRequestBody(event, tracker.region),
          dispatcher,
          signal: combined,
          headersTimeout: tracker.timeoutMs,
          bodyTimeout: tracker.timeoutMs,
        });
        const body = await readCappedText(response.body);
        return {
          kind: 'response',
          status: response.statusCode,
          body,
          headers: flattenHeaders(response.headers),
        };
      } catch (error) {
        if (signal?.aborted) return { kind: 'aborted' };
        if (timeout.aborted) {
          return {
            kind: 'network-error',
            code: 'TIMEOUT',
            message: `request timed out after ${tracker.timeoutMs} ms`,
          };
        }
        return toNetworkError(error, token);
      }
    },
    close: () => dispatcher.close(),
  };
}

function createHttpDispatcher(tracker: TrackerConfig): Dispatcher {
  const ca =
    tracker.caFile === undefined ? undefined : [...rootCertificates, readCaFile(tracker.caFile)];
  const tls = ca === undefined ? {} : { ca };
  const agentOptions = {
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connect: { timeout: tracker.timeoutMs, ...tls },
  };
  if (hasProxyVariables(process.env)) {
    return new EnvHttpProxyAgent({ ...agentOptions, requestTls: tls });
  }
  return new Agent(agentOptions);
}

function hasProxyVariables(env: NodeJS.ProcessEnv): boolean {
  const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
  return names.some((name) => (env[name] ?? '') !== '');
}

function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error';
    throw new Error(
      `tracker.caFile ${path} cannot be read (${code}): point it at a readable PEM file`
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(
      `tracker.caFile ${path} contains no PEM certificate: point it at a file with -----BEGIN CERTIFICATE----- blocks`
    );
  }
  return text;
}

/** Reads up to `MAX_RESPONSE_BODY_CHARS` of the body and drains the rest to keep the connection. */
async function readCappedText(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    if (kept < MAX_RESPONSE_BODY_CHARS) {
      chunks.push(chunk);
      kept += chunk.length;
    }
    if (read > MAX_DRAIN_BYTES) break;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_RESPONSE_BODY_CHARS);
}

function flattenHeaders(
  headers: Record<string, string | string[] | undefined>
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function toNetworkError(error: unknown, token: string): SendResult {
  const failure = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code =
    (typeof failure.code === 'string' && failure.code) ||
    (typeof failure.cause?.code === 'string' && failure.cause.code) ||
    'UNKNOWN';
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  // A library error could quote request options; the token must never reach a log or a file.
  return { kind: 'network-error', code, message: maskSecrets(message, [token]) };
}
