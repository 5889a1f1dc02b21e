import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSource, TrackerEvent } from '../events/event.js';

/** File in the state directory with one dead letter per line. */
export const DEAD_LETTERS_FILE = 'dead-letters.jsonl';

/** File in the state directory listing the ids that `dead-letters retry` sent back. */
export const RETRIED_FILE = 'dead-letters.retried.jsonl';

/** Input of `DeadLetterWriter.write`. */
export interface DeadLetterInput {
  /** The event; an invalid event found by the rules may lack the user id or the timestamp. */
  event: Partial<TrackerEvent>;
  /** Short stable text, such as `bad request` or `retries exhausted`. */
  reason: string;
  /** HTTP status of the tracker's response, when there was one. */
  status?: number;
  /** Body of the tracker's response, capped by the sender. */
  body?: string;
  source?: EventSource | null;
  /** Outbox sequence number, for events that reached the outbox. */
  seq?: number;
}

/** One line of `dead-letters.jsonl`. */
export interface DeadLetterEntry {
  id: string;
  /** ISO 8601 time of the write. */
  at: string;
  reason: string;
  status?: number;
  body?: string;
  event: Partial<TrackerEvent>;
  source?: EventSource;
  seq?: number;
}

/**
 * Appends dead letters to `dead-letters.jsonl` in the state directory. Each `write` is one
 * `write(2)` of a whole line before it returns, so it survives `kill -9`; `sync` fsyncs it.
 */
export class DeadLetterWriter {
  private fd: number | null;
  private readonly retriedPath: string;
  private readonly ids = new Set<string>();
  private retried = new Set<string>();
  private retriedSize = -1;

  constructor(stateDir: string) {
    const path = join(stateDir, DEAD_LETTERS_FILE);
    this.retriedPath = join(stateDir, RETRIED_FILE);
    this.fd = openSync(path, 'a+', 0o640);
    for (const entry of parseEntries(readAll(this.fd), () => undefined)) this.ids.add(entry.id);
    this.endTornLine();
  }

  /** Appends one entry and returns it with its new id. Throws when the write fails. */
  write(input: DeadLetterInput): DeadLetterEntry {
    if (this.fd === null) throw new Error('the dead-letter file is closed');
    const entry: DeadLetterEntry = {
      id: newDeadLetterId(),
      at: new Date().toISOString(),
      reason: input.reason,
      ...(input.status === undefined ? {} : { status: input.status }),
      ...(input.body === undefined ? {} : { body: input.body }),
      event: input.event,
      ...(input.source ? { source: input.source } : {}),
      ...(input.seq === undefined ? {} : { seq: input.seq }),
    };
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    let written = 0;
    while (written < line.length) written += writeSync(this.fd, line, written);
    this.ids.add(entry.id);
    return entry;
  }

  /** Flushes the written entries to disk. */
  sync(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  /** Counts entries not yet retried, rereading the retried list when another process grew it. */
  count(): number {
    let size = 0;
    try {
      size = statSync(this.retriedPath).size;
    } catch {
      // No retried list yet: nothing was retried.
    }
    if (size !== this.retriedSize) {
      this.retriedSize = size;
      this.retried = readRetriedIdsSync(this.retriedPath);
    }
    let retried = 0;
    for (const id of this.retried) if (this.ids.has(id)) retried++;
    return this.ids.size - retried;
  }

  close(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }

  /** Ends a line cut short by a crash so that the next entry starts on a line of its own. */
  private endTornLine(): void {
    if (this.fd === null) return;
    const size = fstatSync(this.fd).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    readSync(this.fd, last, 0, 1, size - 1);
    if (last[0] !== 0x0a) writeSync(this.fd, '\n');
  }
}

/**
 * Reads the dead letters not yet retried, oldest first. A missing file means none. Lines that
 * are not valid entries are skipped and reported through `onInvalidLine` with 1-based numbers. An
 * unterminated last line is a write still in progress, so it is skipped silently.
 */
export async function readDeadLetters(
  stateDir: string,
  options: { onInvalidLine?: (lineNumber: number, problem: string) => void } = {}
): Promise<DeadLetterEntry[]> {
  const text = await readOptional(join(stateDir, DEAD_LETTERS_FILE));
  const retried = parseRetriedIds(await readOptional(join(stateDir, RETRIED_FILE)));
  const entries = parseEntries(text, options.onInvalidLine ?? (() => undefined));
  return entries.filter((entry) => !retried.has(entry.id));
}

/** Creates a unique id: base-36 time in ms and 32 random bits, such as `m3x1k9q2-5f0c2a9e`. */
export function newDeadLetterId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

function parseEntries(
  text: string,
  onInvalidLine: (lineNumber: number, problem: string) => void
): DeadLetterEntry[] {
  const lines = text.split('\n');
  // The piece after the last newline is empty, or a line whose write has not finished.
  lines.pop();
  const entries: DeadLetterEntry[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    const problem = checkEntryLine(line);
    if (typeof problem === 'string') onInvalidLine(index + 1, problem);
    else entries.push(problem);
  });
  return entries;
}

function checkEntryLine(line: string): DeadLetterEntry | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'not a JSON object';
  const entry = value as Record<string, unknown>;
  if (typeof entry.id !== 'string' || entry.id === '') return 'missing "id"';
  if (typeof entry.at !== 'string') return 'missing "at"';
  if (typeof entry.reason !== 'string') return 'missing "reason"';
  if (entry.event === null || typeof entry.event !== 'object') return 'missing "event"';
  return entry as unknown as DeadLetterEntry;
}

function parseRetriedIds(text: string): Set<string> {
  const ids = new Set<string>();
  for (const line of text.split('\n')) {
    try {
      const value = JSON.parse(line) as { id?: unknown };
      if (typeof value.id === 'string') ids.add(value.id);
    } catch {
      // An empty or torn line names no id.
    }
  }
  return ids;
}

function readRetriedIdsSync(path: string): Set<string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return new Set();
  }
  try {
    return parseRetriedIds(readAll(fd));
  } finally {
    closeSync(fd);
  }
}

function readAll(fd: number): string {
  const size = fstatSync(fd).size;
  const buffer = Buffer.alloc(size);
  let read = 0;
  while (read < size) {
    const count = readSync(fd, buffer, read, size - read, read);
    if (count === 0) break;
    read += count;
  }
  return buffer.subarray(0, read).toString('utf8');
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}
