import type { IncomingHttpHeaders } from 'node:http';
import { isLosslessNumber, type LosslessNumber, parse } from 'lossless-json';

/** One HTTP request as the mock tracker read it, handed to a test's `respond` script. */
export interface ReceivedRequest {
  /** 1 for the first request the server read, counting every request. */
  index: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Raw `idApp` query parameter, or null when missing. */
  idApp: string | null;
  /** Raw `Authorization` header, or null when missing. */
  authorization: string | null;
  headers: IncomingHttpHeaders;
  /** Body exactly as received, decoded as UTF-8. */
  bodyText: string;
  /** Epoch ms when the body was read. */
  receivedAt: number;
}

/** Request body of the contract, as the mock tracker accepted it. */
export interface TrackerRequestBody {
  /** Exact decimal digits, never passed through a double. */
  customUserId: string;
  customEventName: string;
  customEventParams: { bot_name: string; region: string };
  /** Unix time in seconds. */
  eventTimestamp: number;
}

/** The mock's response: the status, the JSON body and, for a 200, the accepted request body. */
export type Verdict =
  | {
      status: 200;
      body: { message: 'OK' };
      accepted: { parsed: unknown; body: TrackerRequestBody };
    }
  | { status: 400 | 403 | 404; body: { error: string }; accepted?: undefined };

/** Largest MAX user id, because user ids are unsigned 64-bit integers. */
const MAX_USER_ID = 2n ** 64n - 1n;
const BODY_KEYS = ['customUserId', 'customEventName', 'customEventParams', 'eventTimestamp'];
const PARAM_KEYS = ['bot_name', 'region'];

/**
 * Validates a request the way the tracker's contract table lays out. The checks run in this
 * order: the API version and method in the path, the HTTP method, `idApp`, the token, the body.
 *
 * Where the table is silent, the mock chooses as follows. A missing or non-numeric `idApp` is
 * 400 Bad Request. A numeric `idApp` of another app is 403, because the token does not belong
 * to it. The body must have exactly the four keys:
 * - `customUserId`: a string of 1 to 20 digits, at most 2^64 - 1;
 * - `customEventName`: a non-empty string;
 * - `customEventParams`: exactly `bot_name` and `region`, both non-empty strings;
 * - `eventTimestamp`: a non-negative integer JSON number (no fraction, no string).
 * Any other method than POST is 404 Method not found.
 */
export function validateRequest(
  request: ReceivedRequest,
  expected: { appId: string; token: string }
): Verdict {
  const pathError = checkPath(request.path);
  if (pathError !== null) return pathError;
  if (request.method !== 'POST') return reject(404, 'Method not found');

  const idApp = request.idApp;
  if (idApp === null || !/^\d+$/.test(idApp)) return reject(400, 'Bad Request');
  if (request.authorization !== expected.token) return reject(403, 'Forbidden');
  if (BigInt(idApp) !== BigInt(expected.appId)) return reject(403, 'Forbidden');

  if (request.bodyText.length === 0) return reject(400, 'Empty post data');
  let parsed: unknown;
  try {
    parsed = parse(request.bodyText);
  } catch {
    return reject(400, 'Bad json');
  }
  const body = checkBody(parsed);
  if (body === null) return reject(400, 'Bad Request');
  return { status: 200, body: { message: 'OK' }, accepted: { parsed, body } };
}

function checkPath(path: string): Verdict | null {
  const match = /^\/v([^/]*)\/([^/]*)\/?$/.exec(path);
  if (match === null) return reject(404, 'Method not found');
  if (match[1] !== '1') return reject(400, 'Bad api version');
  if (match[2] !== 'customEvent') return reject(404, 'Method not found');
  return null;
}

function checkBody(value: unknown): TrackerRequestBody | null {
  if (!isPlainObject(value) || !hasExactKeys(value, BODY_KEYS)) return null;
  const { customUserId, customEventName, customEventParams, eventTimestamp } = value;

  if (typeof customUserId !== 'string' || !/^\d{1,20}$/.test(customUserId)) return null;
  if (BigInt(customUserId) > MAX_USER_ID) return null;
  if (typeof customEventName !== 'string' || customEventName.length === 0) return null;
  if (!isPlainObject(customEventParams) || !hasExactKeys(customEventParams, PARAM_KEYS)) {
    return null;
  }
  const { bot_name: botName, region } = customEventParams;
  if (typeof botName !== 'string' || botName.length === 0) return null;
  if (typeof region !== 'string' || region.length === 0) return null;
  const seconds = readTimestamp(eventTimestamp);
  if (seconds === null) return null;

  return {
    customUserId,
    customEventName,
    customEventParams: { bot_name: botName, region },
    eventTimestamp: seconds,
  };
}

function readTimestamp(value: unknown): number | null {
  if (!isLosslessNumber(value)) return null;
  const digits = (value as LosslessNumber).value;
  if (!/^\d+$/.test(digits)) return null;
  const seconds = Number(digits);
  return Number.isSafeInteger(seconds) ? seconds : null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    value !== null && typeof value === 'object' && !Array.isArray(value) && !isLosslessNumber(value)
  );
}

function hasExactKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const present = Object.keys(value);
  return present.length === keys.length && keys.every((key) => Object.hasOwn(value, key));
}

function reject(status: 400 | 403 | 404, error: string): Verdict {
  return { status, body: { error } };
}
