import { readExactNumberText } from '../decode/lossless.js';
import type { DecodedRecord } from '../decode/record.js';
import type { TrackerEvent } from '../events/event.js';
import { parseEventTime, toUnixSeconds } from '../events/timestamp.js';
import { kindOf, readUserId } from '../events/user-id.js';
import type { CompiledBot, CompiledRule } from './compile-bot.js';
import { DEFAULT_TIME_PATHS } from './compile-bot.js';
import { getAtPath, setAtPath } from './field-path.js';

/** The clock and plausibility window events are checked against. */
export interface MatchContext {
  /** Epoch ms; also the event time for rules with `timeFallback: readTime`. */
  nowMs: number;
  futureToleranceMs: number;
  maxEventAgeMs: number;
}

/** A record that a rule matched but whose user id or time is unusable. */
export interface InvalidMatch {
  eventName: string;
  bot: string;
  rule: string;
  reason: string;
  userId?: string;
  /** Unix seconds, when the time was usable. */
  timestamp?: number;
}

/** Result of the rules on one record: an event, an invalid match, or no match. */
export type RecordOutcome =
  | { kind: 'event'; rule: CompiledRule; event: TrackerEvent; timeSuspect?: 'future' | 'old' }
  | { kind: 'invalid'; rule: CompiledRule; invalid: InvalidMatch }
  | { kind: 'no_match' };

/**
 * Evaluates the bot's rules on a record in order; the first rule whose `when` block holds
 * decides. Its user id and time make the event, or an invalid match naming the problem.
 */
export function matchRecord(
  bot: CompiledBot,
  record: DecodedRecord,
  context: MatchContext
): RecordOutcome {
  for (const rule of bot.rules) {
    const fields = fieldsForRule(record, rule);
    if (rule.when.test(fields)) return buildOutcome(bot, rule, record, fields, context);
  }
  return { kind: 'no_match' };
}

/**
 * Returns the record's fields with the rule's `parse` fields replaced by their parsed JSON.
 * A field that is not a string holding JSON stays as it is.
 */
export function fieldsForRule(record: DecodedRecord, rule: CompiledRule): unknown {
  let fields: unknown = record.fields;
  for (const path of rule.parsePaths) {
    const nested = getAtPath(fields, path);
    if (typeof nested !== 'string') continue;
    try {
      fields = setAtPath(fields, path, JSON.parse(nested));
    } catch {
      // Not JSON: conditions below this path find nothing.
    }
  }
  return fields;
}

/** Builds the event, or the invalid match, for a record that `rule` matched. */
export function buildOutcome(
  bot: CompiledBot,
  rule: CompiledRule,
  record: DecodedRecord,
  fields: unknown,
  context: MatchContext
): RecordOutcome {
  const botName = bot.config.name;
  const userId = readUserId(getAtPath(fields, rule.userIdPath), {
    path: rule.userIdPath.source,
    pattern: rule.userIdPattern,
    exactNumberText:
      record.jsonText === null
        ? undefined
        : () => readExactNumberText(record.jsonText!, rule.parsePaths, rule.userIdPath),
  });
  const time = readTime(bot, rule, record, fields, context.nowMs);
  if (!userId.ok || !time.ok) {
    const invalid: InvalidMatch = {
      eventName: rule.event,
      bot: botName,
      rule: rule.name,
      reason: userId.ok ? (time as { reason: string }).reason : userId.reason,
    };
    if (userId.ok) invalid.userId = userId.userId;
    if (time.ok) invalid.timestamp = toUnixSeconds(time.epochMs);
    return { kind: 'invalid', rule, invalid };
  }
  const event: TrackerEvent = {
    name: rule.event,
    userId: userId.userId,
    timestamp: toUnixSeconds(time.epochMs),
    bot: botName,
  };
  const timeSuspect = suspectTime(time.epochMs, context);
  return timeSuspect === undefined
    ? { kind: 'event', rule, event }
    : { kind: 'event', rule, event, timeSuspect };
}

type TimeResult = { ok: true; epochMs: number } | { ok: false; reason: string };

function readTime(
  bot: CompiledBot,
  rule: CompiledRule,
  record: DecodedRecord,
  fields: unknown,
  nowMs: number
): TimeResult {
  const options = { timezone: bot.config.timezone, timeFormat: rule.timeFormat };
  let value: unknown;
  if (rule.timePath !== undefined) {
    value = getAtPath(fields, rule.timePath);
  } else {
    for (const path of DEFAULT_TIME_PATHS) {
      value = getAtPath(fields, path);
      if (value !== undefined) break;
    }
    value ??= record.envelopeTime;
  }
  const epochMs = parseEventTime(value, options);
  if (epochMs !== null) return { ok: true, epochMs };
  if (rule.timeFallback === 'readTime') return { ok: true, epochMs: nowMs };
  return { ok: false, reason: timeReason(rule, value) };
}

function timeReason(rule: CompiledRule, value: unknown): string {
  if (rule.timePath === undefined) {
    if (value === undefined) {
      return (
        'invalid time: the record has no time field (time, timestamp, ts, @timestamp, asctime); ' +
        "set the rule's time path or timeFallback: readTime"
      );
    }
    return `invalid time: the record's time field is ${kindOf(value)} that is not a time`;
  }
  const path = rule.timePath.source;
  if (value === undefined) return `invalid time: '${path}' is missing`;
  const formats = rule.timeFormat
    ? `an epoch number, ISO 8601 or the timeFormat '${rule.timeFormat}'`
    : 'an epoch number or ISO 8601; set timeFormat for other formats';
  return `invalid time: '${path}' is ${kindOf(value)} that is not ${formats}`;
}

function suspectTime(epochMs: number, context: MatchContext): 'future' | 'old' | undefined {
  if (epochMs > context.nowMs + context.futureToleranceMs) return 'future';
  if (epochMs < context.nowMs - context.maxEventAgeMs) return 'old';
  return undefined;
}
