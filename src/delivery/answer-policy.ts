import type { TrackerAnswer } from './sender.js';

/** Cause of a pause: delivery stops sending until a probe succeeds. */
export type PauseReason = 'token_rejected' | 'request_rejected';

/** Cause of a retry, used as the `reason` label of the retries metric: a small fixed set. */
export type RetryReason =
  | `http_${number}`
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'tls'
  | 'network';

/** Decision on one tracker response or network error: what the dispatcher does next. */
export type AnswerDecision =
  | { kind: 'acknowledged'; status: number }
  | {
      kind: 'retry';
      reason: RetryReason;
      /** Delay the tracker requested with `Retry-After`, in ms, or null without that header. */
      retryAfterMs: number | null;
      /** Status code, or the network error code. */
      detail: string;
    }
  | { kind: 'dead-letter'; status: number; error: string | null; body: string }
  | { kind: 'pause'; reason: PauseReason; status: number; error: string | null; body: string };

/** Error texts of a 400 that blame the request as a whole, not the event in it. */
const REQUEST_ERRORS = new Set(['bad api version', 'empty post data', 'bad json']);

/**
 * Classifies a response or a network error. Pure: success is judged by the status alone, because
 * the printed instruction spells the 200 body "ОK" with a Cyrillic О.
 */
export function classifyAnswer(result: TrackerAnswer, now = Date.now()): AnswerDecision {
  if (result.kind === 'network-error') {
    return {
      kind: 'retry',
      reason: networkRetryReason(result.code),
      retryAfterMs: null,
      detail: result.code,
    };
  }
  const { status, body } = result;
  const error = readErrorText(body);

  if (status >= 200 && status < 300) {
    // Only 200 is in the contract; another 2xx still means the tracker took the event, and
    // sending it again would count it twice.
    return { kind: 'acknowledged', status };
  }
  if (status === 429 || status === 408 || (status >= 500 && status < 600)) {
    const retryAfterMs = parseRetryAfterMs(result.headers['retry-after'], now);
    return { kind: 'retry', reason: `http_${status}`, retryAfterMs, detail: String(status) };
  }
  if (status === 403) {
    return { kind: 'pause', reason: 'token_rejected', status, error, body };
  }
  if (status === 400 && error !== null && error.toLowerCase() === 'bad request') {
    return { kind: 'dead-letter', status, error, body };
  }
  if (status === 400 && error !== null && REQUEST_ERRORS.has(error.toLowerCase())) {
    return { kind: 'pause', reason: 'request_rejected', status, error, body };
  }
  // 404 "Method not found", any other 4xx, a redirect (undici does not follow them) and
  // statuses outside HTTP's classes all point at the URL, a proxy or the configuration. Pausing
  // keeps every event until someone fixes that.
  return { kind: 'pause', reason: 'request_rejected', status, error, body };
}

/**
 * Builds the one error line logged when delivery pauses: the tracker's response and the setting
 * to check. The line contains the app id and URL but not the token.
 */
export function describePause(
  decision: Extract<AnswerDecision, { kind: 'pause' }>,
  tracker: { appId: number; url: string }
): string {
  const answer = `${decision.status} ${decision.error ?? 'with an unexpected body'}`;
  const kept = 'delivery is paused and every event is kept';
  if (decision.reason === 'token_rejected') {
    return (
      `the tracker rejected the token for app ${tracker.appId} (${answer}): ` +
      `check tracker.token/tokenFile and tracker.appId; ${kept}`
    );
  }
  const error = decision.error?.toLowerCase() ?? '';
  if (error === 'bad api version') {
    return `the tracker answered ${answer} for ${tracker.url}: check the API version in tracker.url (it must be /v1/customEvent/); ${kept}`;
  }
  if (decision.status === 404) {
    return `the tracker answered ${answer} for ${tracker.url}: check tracker.url (it must end in /v1/customEvent/); ${kept}`;
  }
  if (error === 'empty post data' || error === 'bad json') {
    return (
      `the tracker answered ${answer}: the request body did not arrive as sent; ` +
      `check any proxy between the agent and the tracker (HTTPS_PROXY, HTTP_PROXY); ${kept}`
    );
  }
  return `the tracker answered ${answer} for ${tracker.url}: check tracker.url and any proxy between the agent and the tracker; ${kept}`;
}

/**
 * Parses `Retry-After` as delay-seconds or an HTTP date into ms from `now`. Returns null when the
 * header is missing or invalid, and 0 for a date in the past.
 */
export function parseRetryAfterMs(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names the weekday and month; Date.parse would also take "-5" as a year.
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/** Reads `error` from a JSON body such as `{"error": "Bad Request"}`, or returns null. */
function readErrorText(body: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) {
      const error = (parsed as { error: unknown }).error;
      if (typeof error === 'string') return error.trim();
    }
  } catch {
    // A body that is not JSON (a proxy's HTML page, say) has no error text.
  }
  return null;
}

function networkRetryReason(code: string): RetryReason {
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return 'connection_reset';
    case 'ETIMEDOUT':
    case 'TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns';
    default:
      if (/^(CERT_|ERR_TLS_|ERR_SSL_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(code)) return 'tls';
      return 'network';
  }
}
