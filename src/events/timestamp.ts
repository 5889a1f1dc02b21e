import { DateTime, FixedOffsetZone, IANAZone, type Zone } from 'luxon';

/** Settings for times written without an offset or in a custom format. */
export interface TimeOptions {
  /** IANA zone for times written without an offset, for example `Europe/Moscow`. */
  timezone: string;
  /** Luxon format tokens for times that are neither epoch numbers nor ISO 8601. */
  timeFormat?: string;
}

const EPOCH_TEXT = /^\d+(?:\.\d+)?$/;

// ISO 8601 / RFC 3339 and their common relatives: a space instead of `T`, `/` between date
// parts, a comma before the fraction (Python logging), an offset with or without a colon.
const ISO_LIKE =
  /^(\d{4})[-/](\d{2})[-/](\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;

// Day first with dots, as Russian locales write it: `18.03.2026 14:08:23`.
const DAY_FIRST =
  /^(\d{2})\.(\d{2})\.(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an event time into epoch milliseconds, or returns null when the value contains no
 * usable time. Accepts epoch numbers and digit strings in seconds, milliseconds, microseconds or
 * nanoseconds (chosen by magnitude), ISO 8601 / RFC 3339 with or without an offset, day-first
 * dotted dates, RFC 2822 and HTTP dates, and `timeFormat`. Times without an offset are read in
 * `timezone`.
 */
export function parseEventTime(value: unknown, options: TimeOptions): number | null {
  if (typeof value === 'number') return fromEpoch(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (text.length === 0) return null;
  if (options.timeFormat !== undefined) {
    const parsed = DateTime.fromFormat(text, options.timeFormat, {
      zone: options.timezone,
      setZone: true,
    });
    if (parsed.isValid) return parsed.toMillis();
  }
  if (EPOCH_TEXT.test(text)) return fromEpoch(Number(text));
  const zone = zoneOf(options.timezone);
  if (zone === null) return null;
  const isoMatch = ISO_LIKE.exec(text);
  if (isoMatch) return fromParts(isoMatch[1]!, isoMatch[2]!, isoMatch[3]!, isoMatch.slice(4), zone);
  const dayFirstMatch = DAY_FIRST.exec(text);
  if (dayFirstMatch) {
    const [, day, month, year] = dayFirstMatch;
    return fromParts(year!, month!, day!, dayFirstMatch.slice(4), zone);
  }
  return fromOtherFormats(text, zone);
}

/**
 * Reads an epoch number by magnitude: below 1e11 seconds, below 1e14 milliseconds, below 1e17
 * microseconds, otherwise nanoseconds. Returns whole milliseconds (floor), or null for values
 * that are not positive and finite.
 */
export function fromEpoch(value: number): number | null {
  if (!Number.isFinite(value) || value <= 0) return null;
  if (value < 1e11) return Math.floor(value * 1000);
  if (value < 1e14) return Math.floor(value);
  if (value < 1e17) return Math.floor(value / 1000);
  return Math.floor(value / 1e6);
}

/** Returns whole unix seconds for epoch milliseconds, rounding down as the tracker expects. */
export function toUnixSeconds(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}

/** Returns true when luxon accepts `timezone` as an IANA zone name, such as `Europe/Moscow`. */
export function isValidTimezone(timezone: string): boolean {
  return zoneOf(timezone) !== null;
}

const zoneCache = new Map<string, Zone | null>();

function zoneOf(timezone: string): Zone | null {
  let zone = zoneCache.get(timezone);
  if (zone === undefined) {
    zone = timezone === 'UTC' ? FixedOffsetZone.utcInstance : IANAZone.create(timezone);
    if (!zone.isValid) zone = null;
    zoneCache.set(timezone, zone);
  }
  return zone;
}

function fromParts(
  year: string,
  month: string,
  day: string,
  rest: (string | undefined)[],
  localZone: Zone
): number | null {
  const [hour, minute, second, fraction, offset] = rest;
  const zone = offset === undefined ? localZone : offsetZone(offset);
  if (zone === null) return null;
  if (zone.isUniversal) {
    // A fixed offset needs no zone rules: Date.UTC is exact and, unlike luxon's fromObject, does
    // not load locale data (about 8 MiB of memory).
    return fromFixedOffset(year, month, day, rest, zone.offset(0));
  }
  const parsed = DateTime.fromObject(
    {
      year: Number(year),
      month: Number(month),
      day: Number(day),
      hour: Number(hour ?? 0),
      minute: Number(minute ?? 0),
      // A leap second (:60) is read as the last whole second of the minute.
      second: Math.min(Number(second ?? 0), 59),
      millisecond: fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')),
    },
    { zone }
  );
  return parsed.isValid ? parsed.toMillis() : null;
}

function fromFixedOffset(
  year: string,
  month: string,
  day: string,
  rest: (string | undefined)[],
  offsetMinutes: number
): number | null {
  const [hour, minute, second, fraction] = rest;
  const fields = {
    year: Number(year),
    month: Number(month),
    day: Number(day),
    hour: Number(hour ?? 0),
    minute: Number(minute ?? 0),
    // A leap second (:60) is read as the last whole second of the minute.
    second: Math.min(Number(second ?? 0), 59),
    millisecond: fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0')),
  };
  if (fields.hour > 23 || fields.minute > 59) return null;
  const utc = Date.UTC(
    fields.year,
    fields.month - 1,
    fields.day,
    fields.hour,
    fields.minute,
    fields.second,
    fields.millisecond
  );
  // Date.UTC rolls an impossible date such as 31 February over; such a date is invalid here.
  const check = new Date(utc);
  if (check.getUTCMonth() !== fields.month - 1 || check.getUTCDate() !== fields.day) return null;
  return utc - offsetMinutes * 60_000;
}

function offsetZone(offset: string): Zone | null {
  if (offset === 'Z' || offset === 'z' || offset === 'UTC' || offset === 'GMT') {
    return FixedOffsetZone.utcInstance;
  }
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  if (hours > 23 || minutes > 59) return null;
  const sign = offset[0] === '-' ? -1 : 1;
  return FixedOffsetZone.instance(sign * (hours * 60 + minutes));
}

function fromOtherFormats(text: string, zone: Zone): number | null {
  const candidates = [
    DateTime.fromISO(text, { zone }),
    DateTime.fromRFC2822(text, { zone }),
    DateTime.fromHTTP(text, { zone }),
  ];
  for (const candidate of candidates) if (candidate.isValid) return candidate.toMillis();
  return null;
}
