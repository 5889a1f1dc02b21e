import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BotConfig, botSchema, DEFAULT_EVENT_TYPES } from '../../src/config/schema.js';
import { buildRequestBody } from '../../src/events/event.js';
import {
  type ChunkResult,
  createLineProcessor,
  type LineEvent,
  type LineInvalid,
} from '../../src/rules/line-processor.js';

/** The fixed clock of these tests: 2026-03-18 12:00 UTC, after every fixture event. */
export const NOW_MS = Date.UTC(2026, 2, 18, 12, 0, 0);
export const REGION = '88';
export const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'logs');

/** Builds a bot config through the real schema, so defaults are applied as in the agent. */
export function makeBot(fields: Record<string, unknown>): BotConfig {
  return botSchema.parse({ name: '@mfc_bot', include: ['/var/log/bot/*.log'], ...fields });
}

export function processorOptions(now = NOW_MS) {
  return {
    eventTypes: DEFAULT_EVENT_TYPES,
    futureToleranceMs: 5 * 60_000,
    maxEventAgeMs: 90 * 24 * 3_600_000,
    now: () => now,
  };
}

/** Everything a file gave, summed over its chunks. */
export interface FileResult {
  events: LineEvent[];
  invalid: LineInvalid[];
  lines: number;
  skippedNotJson: number;
  skippedNoMatch: number;
  skippedPrefiltered: number;
  pendingOffset: number | null;
}

/**
 * Reads a real file in chunks of `chunkBytes` cut after the last newline, as the tail stage
 * does, and feeds them to a fresh processor. A last line without a newline is passed as final.
 */
export function processFile(bot: BotConfig, file: string, chunkBytes = 64 * 1024): FileResult {
  const processor = createLineProcessor(bot, processorOptions());
  const total: FileResult = {
    events: [],
    invalid: [],
    lines: 0,
    skippedNotJson: 0,
    skippedNoMatch: 0,
    skippedPrefiltered: 0,
    pendingOffset: null,
  };
  const add = (result: ChunkResult) => {
    total.events.push(...result.events);
    total.invalid.push(...result.invalid);
    total.lines += result.lines;
    total.skippedNotJson += result.skippedNotJson;
    total.skippedNoMatch += result.skippedNoMatch;
    total.skippedPrefiltered += result.skippedPrefiltered;
  };
  const fd = fs.openSync(file, 'r');
  try {
    let buf = Buffer.alloc(chunkBytes);
    let fileOffset = 0;
    let carried = 0;
    for (;;) {
      if (carried === buf.length) buf = Buffer.concat([buf, Buffer.alloc(buf.length)]);
      const read = fs.readSync(fd, buf, carried, buf.length - carried, fileOffset + carried);
      const length = carried + read;
      if (read === 0) {
        if (length > 0) add(processor.process(buf, 0, length, fileOffset, true));
        break;
      }
      const cut = buf.lastIndexOf(0x0a, length - 1) + 1;
      if (cut > 0) add(processor.process(buf, 0, cut, fileOffset));
      buf.copy(buf, 0, cut, length);
      carried = length - cut;
      fileOffset += cut;
    }
  } finally {
    fs.closeSync(fd);
  }
  total.pendingOffset = processor.pendingOffset();
  return total;
}

/** Writes `content` to a file in a fresh temporary directory and returns its path. */
export function writeTempLog(content: string | Buffer, name = 'bot.log'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mfc-rules-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

export function bodiesOf(events: readonly LineEvent[]): string[] {
  return events.map((lineEvent) => buildRequestBody(lineEvent.event, REGION));
}

/** Writes out by hand the request body that the tracker contract prescribes. */
export function expectedBody(userId: string, name: string, unixSeconds: number): string {
  return (
    `{"customUserId":"${userId}","customEventName":"${name}",` +
    `"customEventParams":{"bot_name":"mfc_bot","region":"88"},"eventTimestamp":${unixSeconds}}`
  );
}

/** Unix seconds of a UTC wall-clock time in March 2026. */
export function utcSeconds(day: number, hour: number, minute: number, second: number): number {
  return Date.UTC(2026, 2, day, hour, minute, second) / 1000;
}
