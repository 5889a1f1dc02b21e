/** The outcome of reading a user id: its exact decimal digits, or why the value is unusable. */
export type UserIdResult = { ok: true; userId: string } | { ok: false; reason: string };

/** Settings for reading a user id from a record value. */
export interface UserIdOptions {
  /** The rule's field path, named in error reasons. */
  path: string;
  /** Pulls the id out of text: capture group `id` if present, otherwise group 1. */
  pattern?: RegExp;
  /**
   * Returns the exact JSON text of the number at the path. Called only for numbers that are not
   * safe integers, whose digits a double no longer holds.
   */
  exactNumberText?: () => string | undefined;
}

const MAX_UINT64 = 2n ** 64n - 1n;
const DIGITS = /^\d+$/;

/**
 * Reads a MAX user id (a positive 64-bit integer) from a record value as its exact digits.
 * Numbers above 2^53 take their digits from `exactNumberText`. Reasons name the path and the
 * kind of value but never the value itself.
 */
export function readUserId(value: unknown, options: UserIdOptions): UserIdResult {
  const { path, pattern } = options;
  if (typeof value === 'number') {
    const text = numberText(value, options);
    if (text === null) return fail(path, describeNumber(value, options));
    return pattern ? fromPattern(text, pattern, path) : checkDigits(text, path);
  }
  if (typeof value === 'string') {
    if (value.length === 0) return fail(path, 'is an empty string');
    if (pattern) return fromPattern(value, pattern, path);
    return checkDigits(value, path);
  }
  return fail(path, `is ${kindOf(value)}`);
}

/** Names the JSON kind of a value for error reasons: `missing`, `null`, `a string`, ... */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return 'a number';
  return 'a string';
}

/** Returns the digits of an integer number, or null when it is negative, fractional or inexact. */
function numberText(value: number, options: UserIdOptions): string | null {
  if (Number.isSafeInteger(value)) return value >= 0 ? String(value) : null;
  if (!Number.isFinite(value) || value < 0 || !Number.isInteger(value)) return null;
  const text = options.exactNumberText?.();
  if (text === undefined) return null;
  // Python writes integral floats as `123.0`; the digits before the point are still exact.
  const match = /^(\d+)(?:\.0+)?$/.exec(text);
  return match ? match[1]! : null;
}

function describeNumber(value: number, options: UserIdOptions): string {
  if (value < 0) return 'is a negative number';
  if (!Number.isInteger(value)) return 'is a fractional number';
  if (!Number.isFinite(value)) return 'is not a finite number';
  if (options.exactNumberText === undefined) return 'is a number above 2^53 whose digits are lost';
  return 'is a number above 2^53 written with a fraction or an exponent';
}

function fromPattern(text: string, pattern: RegExp, path: string): UserIdResult {
  const match = pattern.exec(text);
  const captured = match?.groups?.id ?? match?.[1];
  if (captured === undefined) return fail(path, 'does not match userIdPattern');
  return checkDigits(captured, path, ' captured by userIdPattern');
}

function checkDigits(text: string, path: string, origin = ''): UserIdResult {
  if (!DIGITS.test(text)) {
    if (text.length === 0) return fail(path, `is an empty string${origin}`);
    if (/^-\d+$/.test(text)) return fail(path, `is a negative number${origin}`);
    if (/^-?\d*[.,]\d+$/.test(text)) return fail(path, `is a fractional number${origin}`);
    return fail(path, `is a string that is not a decimal number${origin}`);
  }
  if (/^0+$/.test(text)) return fail(path, `is zero${origin}`);
  if (text.length >= 20 && BigInt(text) > MAX_UINT64) {
    return fail(path, `is above the 64-bit range${origin}`);
  }
  return { ok: true, userId: text };
}

function fail(path: string, problem: string): UserIdResult {
  return { ok: false, reason: `invalid user id: '${path}' ${problem}` };
}
