import { readdirSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { isLosslessNumber, parse } from 'lossless-json';
import type { TrackerEvent } from '../events/event.js';
import type { Logger } from '../observability/logger.js';
import { errorCode } from './file-io.js';
import type { Outbox } from './outbox.js';
import { OutboxFullError } from './outbox-full-error.js';
import type { OutboxEntry } from './record.js';

/** Events appended per `write(2)` while moving a spool file into the outbox. */
const BATCH_EVENTS = 1000;
/** Line numbers listed in the warning about a spool file with invalid lines. */
const LISTED_LINES = 10;

type SpoolTarget = Pick<Outbox, 'append' | 'sync' | 'highWaterMarks'>;

/**
 * Moves the events of `<stateDir>/spool/*.jsonl` into the outbox, oldest name first, and returns
 * how many were appended. Each line is a tracker event, or an object whose `event` field is one
 * (the dead-letter shape). Records carry the source `spool:<file name>` with the line index as
 * offset, so lines already queued by a run killed before it deleted the file are skipped: spool
 * file names must therefore never be reused. A file with invalid lines is renamed to
 * `<name>.invalid` once its valid lines are queued.
 */
export function ingestSpool(outbox: SpoolTarget, stateDir: string, logger: Logger): number {
  const spoolDir = join(stateDir, 'spool');
  let names: string[];
  try {
    names = readdirSync(spoolDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  const files = names.filter((name) => name.endsWith('.jsonl')).sort();
  if (files.length === 0) return 0;

  const marks = outbox.highWaterMarks();
  let moved = 0;
  for (const name of files) {
    const result = ingestFile(outbox, spoolDir, name, marks.get(spoolKey(name)) ?? 0, logger);
    moved += result.appended;
    if (result.full) break;
  }
  return moved;
}

/** Source file key of the records that come from a spool file. */
export function spoolKey(name: string): string {
  return `spool:${name}`;
}

function ingestFile(
  outbox: SpoolTarget,
  spoolDir: string,
  name: string,
  firstLine: number,
  logger: Logger
): { appended: number; full: boolean } {
  const path = join(spoolDir, name);
  const lines = readFileSync(path, 'utf8').split('\n');
  const invalidLines: number[] = [];
  let batch: OutboxEntry[] = [];
  let appended = 0;
  const flush = (): void => {
    if (batch.length === 0) return;
    appended += outbox.append(batch).length;
    batch = [];
  };

  try {
    for (let index = firstLine; index < lines.length; index++) {
      const line = lines[index]!.trim();
      if (line === '') continue;
      const event = parseSpoolLine(line);
      if (event === null) {
        invalidLines.push(index + 1);
        continue;
      }
      batch.push({ event, source: { fileKey: spoolKey(name), offset: index, end: index + 1 } });
      if (batch.length >= BATCH_EVENTS) flush();
    }
    flush();
  } catch (error) {
    if (!(error instanceof OutboxFullError)) throw error;
    // The lines queued so far are skipped next time through their source marks.
    outbox.sync();
    logger.info(
      { spoolFile: name, events: appended },
      'Outbox is full; the rest of the spool file is queued once delivery frees space.'
    );
    return { appended, full: true };
  }

  outbox.sync();
  finishFile(path, name, invalidLines, appended, logger);
  return { appended, full: false };
}

/** Deletes a spool file whose events are all queued, or sets it aside when lines were invalid. */
function finishFile(
  path: string,
  name: string,
  invalidLines: number[],
  appended: number,
  logger: Logger
): void {
  if (invalidLines.length === 0) {
    unlinkSync(path);
    logger.info({ spoolFile: name, events: appended }, 'Queued the events of a spool file.');
    return;
  }
  const invalidPath = `${path}.invalid`;
  renameSync(path, invalidPath);
  logger.warn(
    {
      spoolFile: name,
      events: appended,
      invalidLines: invalidLines.length,
      lineNumbers: invalidLines.slice(0, LISTED_LINES),
    },
    `Spool file had invalid lines; its valid events were queued and it was renamed to ${invalidPath}. ` +
      'Each line must be a JSON event {"name","userId" (decimal digits),"timestamp" (seconds),"bot"} ' +
      'or an object with such an "event" field; put the corrected lines alone into a new .jsonl ' +
      'file in the spool directory to queue them.'
  );
}

/** Parses a spool line into a tracker event, or returns null when it is not one. */
function parseSpoolLine(line: string): TrackerEvent | null {
  let value: unknown;
  try {
    // Lossless parsing keeps a user id written as a bare JSON number exact above 2^53.
    value = parse(line);
  } catch {
    return null;
  }
  if (!isRecord(value)) return null;
  const candidate = isRecord(value.event) ? value.event : value;
  const { name, bot } = candidate;
  const userId = digitString(candidate.userId);
  const timestamp = finiteNumber(candidate.timestamp);
  if (typeof name !== 'string' || name === '' || typeof bot !== 'string' || bot === '') {
    return null;
  }
  if (userId === null || timestamp === null) return null;
  return { name, userId, timestamp, bot };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function digitString(value: unknown): string | null {
  const text = isLosslessNumber(value) ? value.toString() : value;
  return typeof text === 'string' && /^\d+$/.test(text) ? text : null;
}

function finiteNumber(value: unknown): number | null {
  const number = isLosslessNumber(value) ? Number(value.toString()) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}
