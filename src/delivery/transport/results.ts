import { maskSecrets } from '../../observability/logger.js';
import type { SendResult } from '../sender.js';
import { MAX_RESPONSE_BODY_CHARS } from './transport.js';

/** Builds the `TIMEOUT` network error of a request that missed its deadline. */
export function timeoutResult(timeoutMs: number): SendResult {
  return {
    kind: 'network-error',
    code: 'TIMEOUT',
    message: `request timed out after ${timeoutMs} ms`,
  };
}

/** Joins the kept chunks of a response body and cuts the text to `MAX_RESPONSE_BODY_CHARS`. */
export function cappedBodyText(chunks: Buffer[]): string {
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_RESPONSE_BODY_CHARS);
}

/** Lowercases header names and joins repeated values with `, `. */
export function flattenHeaders(
  headers: Record<string, string | string[] | undefined>
): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined)
      flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

/**
 * Converts a thrown or emitted error into a network error with the system or TLS code
 * (`ECONNREFUSED`, `DEPTH_ZERO_SELF_SIGNED_CERT`, ...), falling back to the code of its cause.
 */
export function toNetworkError(error: unknown, token: string): SendResult {
  const failure = error as { code?: unknown; message?: unknown; cause?: { code?: unknown } };
  const code =
    (typeof failure.code === 'string' && failure.code) ||
    (typeof failure.cause?.code === 'string' && failure.cause.code) ||
    'UNKNOWN';
  const message = typeof failure.message === 'string' ? failure.message : String(error);
  // A library error could quote request options; the token must never reach a log or a file.
  return { kind: 'network-error', code, message: maskSecrets(message, [token]) };
}
