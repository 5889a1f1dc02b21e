import type { BotConfig } from '../config/schema.js';
import { createFormatDecoder } from '../decode/create-decoder.js';
import { lineContent } from '../decode/line-bounds.js';
import type { DecodedRecord, FormatDecoder } from '../decode/record.js';
import type { TrackerEvent } from '../events/event.js';
import { type CompiledBot, compileBot } from './compile-bot.js';
import { findCandidateLines } from './prefilter.js';
import { type MatchContext, matchRecord } from './record-matcher.js';

/** An event found in a line, with the line's place in the file. */
export interface LineEvent {
  event: TrackerEvent;
  rule: string;
  /** File offset of the first line of the record. */
  offset: number;
  /** File offset just past the last line of the record and its newline. */
  end: number;
  timeSuspect?: 'future' | 'old';
}

/** A line that a rule matched but whose user id or time is unusable. */
export interface LineInvalid {
  eventName: string;
  bot: string;
  rule: string;
  reason: string;
  offset: number;
  end: number;
  userId?: string;
  /** Unix seconds, when the time was usable. */
  timestamp?: number;
}

/** Events and invalid matches found by one `process` call, with the counters for metrics. */
export interface ChunkResult {
  events: LineEvent[];
  invalid: LineInvalid[];
  /** Complete lines seen in the range, blank ones included. */
  lines: number;
  /** Lines that are not in the bot's format (for `text`: not matched by `pattern`). */
  skippedNotJson: number;
  skippedNoMatch: number;
  skippedPrefiltered: number;
  /** Matches per rule label, valid and invalid ones. */
  matchedByRule: Map<string, number>;
}

/** Turns the byte ranges of one file into events; one processor per open file. */
export interface LineProcessor {
  /**
   * Processes `buf[start, end)`, which contains whole lines: `buf[end - 1]` is `\n` unless `final`
   * marks that the range ends with a complete last line without one. `fileOffset` is the file
   * offset of `buf[start]`.
   */
  process(
    buf: Buffer,
    start: number,
    end: number,
    fileOffset: number,
    final?: boolean
  ): ChunkResult;
  /**
   * File offset of the first line of a record still being assembled (docker and cri partial
   * lines, pm2 chunks), or null. The checkpoint never moves past it.
   * NOTE: events of other streams, or of earlier lines in the same pm2 chunk, may end past this
   * offset, so a restart reads their lines again and the outbox must drop the repeats.
   */
  pendingOffset(): number | null;
  /** Forgets assembled state, after a truncation. */
  reset(): void;
}

/** The tracker's event types and the plausibility window of event times. */
export interface LineProcessorOptions {
  /** Event names the tracker counts; every rule's `event` must be one of them. */
  eventTypes: readonly string[];
  futureToleranceMs: number;
  maxEventAgeMs: number;
  /** Clock in epoch ms; defaults to `Date.now`. */
  now?: () => number;
  /**
   * Whether prefiltered ranges count their lines (`lines`, `skippedPrefiltered`). Counting costs
   * one `indexOf` per line, about a quarter of a catch-up's time, so the agent enables it only
   * when metrics are served. Without it both stay 0 for prefiltered ranges. Defaults to true.
   */
  countLines?: boolean;
}

/**
 * Creates the processor of one file of `bot`. The bot's rules are compiled once and shared.
 * Throws an error naming the rule and the fix when the rules are invalid or a rule's event is
 * not one of `eventTypes`.
 */
export function createLineProcessor(bot: BotConfig, options: LineProcessorOptions): LineProcessor {
  const compiled = compileBot(bot);
  checkEventTypes(compiled, options.eventTypes);
  const decoder = createFormatDecoder(bot, compiled.textPattern);
  const now = options.now ?? Date.now;
  const countLines = options.countLines ?? true;
  return {
    process(buf, start, end, fileOffset) {
      const context: MatchContext = {
        nowMs: now(),
        futureToleranceMs: options.futureToleranceMs,
        maxEventAgeMs: options.maxEventAgeMs,
      };
      const chunk = new Chunk(compiled, decoder, context, buf.subarray(start, end), fileOffset);
      if (compiled.prefilter !== null) {
        chunk.runPrefiltered(findCandidateLines(compiled.prefilter, chunk.view), countLines);
      } else {
        chunk.runAll();
      }
      return chunk.result;
    },
    pendingOffset: () => decoder.pendingOffset(),
    reset: () => decoder.reset(),
  };
}

function checkEventTypes(compiled: CompiledBot, eventTypes: readonly string[]): void {
  for (const rule of compiled.rules) {
    if (!eventTypes.includes(rule.event)) {
      throw new Error(
        `bot '${compiled.config.name}' rule '${rule.name}': event '${rule.event}' is not in ` +
          `tracker.events (${eventTypes.join(', ')}); add it there or fix the rule's event`
      );
    }
  }
}

/**
 * The work of one `process` call. Lines end at `\n` or at the end of the range, because the
 * range ends just past a newline unless its last line is final.
 */
class Chunk {
  readonly result: ChunkResult = {
    events: [],
    invalid: [],
    lines: 0,
    skippedNotJson: 0,
    skippedNoMatch: 0,
    skippedPrefiltered: 0,
    matchedByRule: new Map(),
  };
  private readonly records: DecodedRecord[] = [];

  constructor(
    private readonly compiled: CompiledBot,
    private readonly decoder: FormatDecoder,
    private readonly context: MatchContext,
    readonly view: Buffer,
    private readonly fileOffset: number
  ) {}

  runAll(): void {
    const view = this.view;
    let position = 0;
    while (position < view.length) {
      const newline = view.indexOf(0x0a, position);
      const stop = newline < 0 ? view.length : newline;
      this.result.lines++;
      this.handleLine(position, stop, newline < 0 ? stop : newline + 1);
      position = stop + 1;
    }
  }

  /** Decodes only the candidate lines; the others count as prefiltered unless blank. */
  runPrefiltered(candidates: readonly number[], countLines: boolean): void {
    const view = this.view;
    for (const lineStart of candidates) {
      const newline = view.indexOf(0x0a, lineStart);
      const stop = newline < 0 ? view.length : newline;
      this.handleLine(lineStart, stop, newline < 0 ? stop : newline + 1);
    }
    if (!countLines) return;
    const { lines, blank } = this.countLines();
    this.result.lines = lines;
    this.result.skippedPrefiltered = lines - blank - candidates.length;
  }

  private countLines(): { lines: number; blank: number } {
    const view = this.view;
    let lines = 0;
    let blank = 0;
    let position = 0;
    while (position < view.length) {
      let stop = view.indexOf(0x0a, position);
      if (stop < 0) stop = view.length;
      lines++;
      // Only lines that start with a byte that may be trimmed can be blank.
      const first = view[position];
      if (stop === position || first === 0x0d || first === 0x00 || first === 0xef) {
        const content = lineContent(view, position, stop, this.fileOffset + position === 0);
        if (content.start === content.stop) blank++;
      }
      position = stop + 1;
    }
    return { lines, blank };
  }

  private handleLine(lineStart: number, stop: number, next: number): void {
    const view = this.view;
    const content = lineContent(view, lineStart, stop, this.fileOffset + lineStart === 0);
    if (content.start === content.stop) return;
    const text = view.toString('utf8', content.start, content.stop);
    const records = this.records;
    records.length = 0;
    const offset = this.fileOffset + lineStart;
    const status = this.decoder.decode(text, offset, this.fileOffset + next, records);
    if (status === 'not_json') this.result.skippedNotJson++;
    for (const record of records) this.handleRecord(record);
  }

  private handleRecord(record: DecodedRecord): void {
    const result = this.result;
    const outcome = matchRecord(this.compiled, record, this.context);
    if (outcome.kind === 'no_match') {
      // A bot line inside an envelope that was not JSON is reported as not JSON.
      if (record.structured) result.skippedNoMatch++;
      else result.skippedNotJson++;
      return;
    }
    const rule = outcome.rule.name;
    result.matchedByRule.set(rule, (result.matchedByRule.get(rule) ?? 0) + 1);
    const place = { offset: record.offset, end: record.end };
    if (outcome.kind === 'invalid') {
      result.invalid.push({ ...outcome.invalid, ...place });
      return;
    }
    const lineEvent: LineEvent = { event: outcome.event, rule, ...place };
    if (outcome.timeSuspect !== undefined) lineEvent.timeSuspect = outcome.timeSuspect;
    result.events.push(lineEvent);
  }
}
