import {
  closeSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { TrackerEvent } from '../events/event.js';
import { type DeadLetterEntry, RETRIED_FILE } from './dead-letters.js';

/** Folder in the state directory where the running agent picks up retried events. */
export const SPOOL_DIR = 'spool';

/** Outcome of `retryDeadLetters`. */
export interface DeadLetterRetryResult {
  /** Path of the spool file written; null when no entry could be retried. */
  spoolPath: string | null;
  retried: DeadLetterEntry[];
  /** Entries whose event lacks a field the tracker needs, with the missing field names. */
  skipped: { entry: DeadLetterEntry; missing: string[] }[];
}

/**
 * Lists the fields a complete event needs and `event` lacks: an invalid event found by the
 * rules may have no user id or timestamp, and the tracker would reject it again.
 */
export function missingEventFields(event: Partial<TrackerEvent>): string[] {
  const missing: string[] = [];
  if (typeof event.name !== 'string' || event.name === '') missing.push('name');
  if (typeof event.userId !== 'string' || !/^\d+$/.test(event.userId)) missing.push('userId');
  if (typeof event.timestamp !== 'number' || !Number.isFinite(event.timestamp)) {
    missing.push('timestamp');
  }
  if (typeof event.bot !== 'string' || event.bot === '') missing.push('bot');
  return missing;
}

/**
 * Sends dead letters back to delivery: writes their complete events to a new spool file
 * `spool/<epoch-ms>-<pid>.jsonl` (temp file, fsync, rename, fsync of the folder), then appends
 * their ids to `dead-letters.retried.jsonl` so that listings no longer show them.
 */
export function retryDeadLetters(
  stateDir: string,
  entries: DeadLetterEntry[]
): DeadLetterRetryResult {
  const retried: DeadLetterEntry[] = [];
  const skipped: DeadLetterRetryResult['skipped'] = [];
  for (const entry of entries) {
    const missing = missingEventFields(entry.event);
    if (missing.length > 0) skipped.push({ entry, missing });
    else retried.push(entry);
  }
  if (retried.length === 0) return { spoolPath: null, retried, skipped };

  const lines = retried.map(
    (entry) => `${JSON.stringify({ event: toTrackerEvent(entry.event) })}\n`
  );
  const spoolPath = writeSpoolFile(stateDir, lines.join(''));
  // NOTE: a crash between the rename and this append leaves the entries listed, so a second
  // retry would send them twice. The other order could lose them instead.
  const at = new Date().toISOString();
  const spool = spoolPath.slice(stateDir.length + 1);
  const marks = retried.map((entry) => `${JSON.stringify({ id: entry.id, at, spool })}\n`);
  appendDurably(join(stateDir, RETRIED_FILE), marks.join(''));
  return { spoolPath, retried, skipped };
}

function toTrackerEvent(event: Partial<TrackerEvent>): TrackerEvent {
  return {
    name: event.name as string,
    userId: event.userId as string,
    timestamp: event.timestamp as number,
    bot: event.bot as string,
  };
}

function writeSpoolFile(stateDir: string, text: string): string {
  const dir = join(stateDir, SPOOL_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const name = `${Date.now()}-${process.pid}.jsonl`;
  // The dot and the suffix keep a half-written file out of every `*.jsonl` listing.
  const temporary = join(dir, `.${name}.tmp`);
  const finalPath = join(dir, name);
  const fd = openSync(temporary, 'wx', 0o640);
  try {
    writeAll(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, finalPath);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return finalPath;
}

function appendDurably(path: string, text: string): void {
  const fd = openSync(path, 'a+', 0o640);
  try {
    // A line cut short by a crash would swallow the first new id.
    const size = fstatSync(fd).size;
    const last = Buffer.alloc(1);
    if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) {
      writeAll(fd, '\n');
    }
    writeAll(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written);
}
