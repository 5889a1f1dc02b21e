import { cappedBodyText, flattenHeaders, timeoutResult, toNetworkError } from './results.js';
import {
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_DRAIN_BYTES,
  MAX_RESPONSE_BODY_CHARS,
  type Transport,
  type TransportOptions,
} from './transport.js';

/**
 * Creates the transport used when a proxy variable is set: undici's `EnvHttpProxyAgent`, which
 * reads `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` and tunnels HTTPS through `CONNECT`. Each
 * request is bounded by `timeoutMs` as a whole and for its headers and body. `maxSockets` is not
 * applied here: the sender's callers already limit requests in flight.
 */
export async function createProxyTransport(options: TransportOptions): Promise<Transport> {
  // Imported here, not at the top, so that no build of the CLI loads undici without a proxy.
  const { EnvHttpProxyAgent, request } = await import('undici');
  const { target, headers, timeoutMs, token } = options;
  const url = target.toString();
  const tls = options.ca === undefined ? {} : { ca: options.ca };
  const dispatcher = new EnvHttpProxyAgent({
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connect: { timeout: timeoutMs, ...tls },
    requestTls: tls,
  });

  return {
    async send(body, signal) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      try {
        const response = await request(url, {
          method: 'POST',
          headers,
          body,
          dispatcher,
          signal: combined,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        return {
          kind: 'response',
          status: response.statusCode,
          body: await readCappedText(response.body),
          headers: flattenHeaders(response.headers),
        };
      } catch (error) {
        if (signal?.aborted) return { kind: 'aborted' };
        if (timeout.aborted) return timeoutResult(timeoutMs);
        return toNetworkError(error, token);
      }
    },
    close: () => dispatcher.close(),
  };
}

/** Reads up to `MAX_RESPONSE_BODY_CHARS` of the body and drains the rest to keep the connection. */
async function readCappedText(body: AsyncIterable<Buffer>): Promise<string> {
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
  return cappedBodyText(chunks);
}
