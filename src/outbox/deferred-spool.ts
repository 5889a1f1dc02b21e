import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { TrackerEvent } from '../events/event.js';
import { errorCode, fsyncDirectory } from './file-io.js';

const PART_PREFIX = '.deferred-';
const PART_SUFFIX = '.part';

/**
 * Events that a backfill found dated after its `--until`: they belong to the running agent, so
 * they go to a spool file that the next `run` moves into its outbox. Lines are written with
 * write(2) before the backfill's checkpoint passes them, into `spool/.deferred-<ms>-<pid>.part`;
 * `finish` renames the file to `<ms>-<pid>-deferred.jsonl`, the name the spool reader takes.
 */
export class DeferredSpool {
  private fd: number | null = null;
  private readonly partPath: string;
  private readonly finalPath: string;

  constructor(private readonly stateDir: string) {
    const stamp = `${Date.now()}-${process.pid}`;
    this.partPath = join(stateDir, 'spool', `${PART_PREFIX}${stamp}${PART_SUFFIX}`);
    this.finalPath = join(stateDir, 'spool', `${stamp}-deferred.jsonl`);
  }

  write(events: readonly TrackerEvent[]): void {
    if (events.length === 0) return;
    if (this.fd === null) {
      mkdirSync(join(this.stateDir, 'spool'), { recursive: true, mode: 0o750 });
      this.fd = openSync(this.partPath, 'a', 0o640);
    }
    const text = events.map((event) => `${JSON.stringify({ event })}\n`).join('');
    const bytes = Buffer.from(text);
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written);
  }

  sync(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  /** Makes the file visible to the spool reader; nothing happens when no event was deferred. */
  finish(): void {
    if (this.fd === null) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.partPath, this.finalPath);
    fsyncDirectory(join(this.stateDir, 'spool'));
  }
}

/**
 * Completes the deferred files of a backfill that was killed: a torn last line is cut off and
 * the file renamed for the spool reader. Every whole line was written before the checkpoint
 * passed its log line, so nothing else needs repair.
 */
export function recoverDeferredSpools(stateDir: string): number {
  const spoolDir = join(stateDir, 'spool');
  let names: string[];
  try {
    names = readdirSync(spoolDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 0;
    throw error;
  }
  let recovered = 0;
  for (const name of names) {
    if (!name.startsWith(PART_PREFIX) || !name.endsWith(PART_SUFFIX)) continue;
    const path = join(spoolDir, name);
    const text = readFileSync(path, 'utf8');
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    if (whole.length < text.length) {
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, Buffer.byteLength(whole));
      fsyncSync(fd);
      closeSync(fd);
    }
    const stamp = name.slice(PART_PREFIX.length, -PART_SUFFIX.length);
    renameSync(path, join(spoolDir, `${stamp}-deferred.jsonl`));
    recovered++;
  }
  if (recovered > 0) fsyncDirectory(spoolDir);
  return recovered;
}
