import {
  Agent as HttpAgent,
  type IncomingMessage,
  type RequestOptions,
  request as requestHttp,
} from 'node:http';
import { Agent as HttpsAgent, request as requestHttps } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { SendResult } from '../sender.js';
import { cappedBodyText, flattenHeaders, timeoutResult, toNetworkError } from './results.js';
import {
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_DRAIN_BYTES,
  MAX_RESPONSE_BODY_CHARS,
  type Transport,
  type TransportOptions,
} from './transport.js';

const ABORTED: SendResult = { kind: 'aborted' };

/**
 * Creates the direct transport: `node:http` or `node:https` with one keep-alive agent of at most
 * `maxSockets` sockets. Each request gets one timer for its whole deadline. TLS verification is
 * always on, even when `NODE_TLS_REJECT_UNAUTHORIZED=0` is set.
 */
export function createNodeHttpTransport(options: TransportOptions): Transport {
  const { target, timeoutMs, token } = options;
  const secure = target.protocol === 'https:';
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets,
    // The agent closes a pooled socket idle this long, or sooner when the server's `Keep-Alive`
    // header requests it. On a busy socket it has no effect: the per-request deadline bounds those.
    timeout: KEEP_ALIVE_TIMEOUT_MS,
  };
  const agent = secure
    ? new HttpsAgent({
        ...agentOptions,
        rejectUnauthorized: true,
        // One context for every connection, so the CA list is parsed once, not per handshake.
        ...(options.ca === undefined
          ? {}
          : { secureContext: createSecureContext({ ca: options.ca }) }),
      })
    : new HttpAgent(agentOptions);
  const request = secure ? requestHttps : requestHttp;
  const base: RequestOptions = {
    agent,
    method: 'POST',
    // URL keeps the brackets of an IPv6 host; the socket needs the bare address.
    host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: target.port === '' ? undefined : Number(target.port),
    path: target.pathname + target.search,
  };
  const inFlight = new Set<Promise<SendResult>>();

  const sendOnce = (body: string, signal: AbortSignal | undefined): Promise<SendResult> =>
    new Promise((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const headers = { ...options.headers, 'content-length': String(Buffer.byteLength(body)) };
      const outgoing = request({ ...base, headers }, (response) =>
        readResponse(response, token, finish)
      );
      const onAbort = () => {
        finish(ABORTED);
        outgoing.destroy();
      };
      const timer = setTimeout(() => {
        finish(timeoutResult(timeoutMs));
        outgoing.destroy();
      }, timeoutMs);
      outgoing.on('error', (error) => finish(toNetworkError(error, token)));
      signal?.addEventListener('abort', onAbort, { once: true });
      outgoing.end(body);
    });

  return {
    send(body, signal) {
      if (signal?.aborted) return Promise.resolve(ABORTED);
      const sending = sendOnce(body, signal);
      inFlight.add(sending);
      sending.then(() => inFlight.delete(sending));
      return sending;
    },
    async close() {
      await Promise.all(inFlight);
      agent.destroy();
    },
  };
}

/**
 * Reads up to `MAX_RESPONSE_BODY_CHARS` of the body and drains the rest, so the socket goes back
 * to the agent. A body beyond `MAX_DRAIN_BYTES` is cut off with its connection.
 */
function readResponse(
  response: IncomingMessage,
  token: string,
  finish: (result: SendResult) => void
): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  let read = 0;
  const result = (): SendResult => ({
    kind: 'response',
    status: response.statusCode ?? 0,
    body: cappedBodyText(chunks),
    headers: flattenHeaders(response.headers),
  });
  response.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (kept < MAX_RESPONSE_BODY_CHARS) {
      chunks.push(chunk);
      kept += chunk.length;
    }
    if (read > MAX_DRAIN_BYTES) {
      finish(result());
      response.destroy();
    }
  });
  response.on('end', () => finish(result()));
  // A connection lost mid-body emits `error`: the status alone must not count as an
  // acknowledgement. Should no event come at all, the request's deadline still ends it.
  response.on('error', (error) => finish(toNetworkError(error, token)));
}
